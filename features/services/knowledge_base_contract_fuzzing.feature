@security @services @fuzzing @slow @scripted
Feature: The knowledge base (RAG) service keeps its OpenAPI contract under fuzzing
  The knowledge base (RAG) service's OpenAPI document is the contract its clients read: the key it
  needs, the headers it takes, every status it answers with and the shape of each answer. Schemathesis
  reads the document and sends each operation requests the document allows and requests it forbids,
  with a fixed seed, a tenant's key on the tenant routes and the operator's key on the operator
  routes. Each service's document has a feature of its own, so a parallel run shares them out over its
  workers. It needs the scripted model: thousands of requests reach the model, which a real one
  answers in seconds each.

  Scenario: The rag service answers any request its contract allows or forbids without a server error
    When schemathesis tries every operation of the rag service's OpenAPI document with all its checks
    Then it finds no server error, no undocumented status, no answer outside the documented schema and no valid request refused
