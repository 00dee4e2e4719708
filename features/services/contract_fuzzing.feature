@security @services @fuzzing @slow @scripted
Feature: The knowledge base, agent and query services keep their OpenAPI contracts under fuzzing
  Each service's OpenAPI document is the contract its clients read: the key it needs, the headers it
  takes, every status it answers with and the shape of each answer. Schemathesis reads the document
  and sends each operation requests the document allows and requests it forbids, with a fixed seed.
  A tenant's key tries the tenant routes, the operator's key the operator routes (the RAG service's).
  The gateway's document is fuzzed in gateway_contract_fuzzing.feature. It needs the scripted model:
  thousands of requests reach the model, which a real one answers in seconds each.

  Scenario Outline: The <service> service answers any request its contract allows or forbids without a server error
    When schemathesis tries every operation of the <service> service's OpenAPI document with all its checks
    Then it finds no server error, no undocumented status, no answer outside the documented schema and no valid request refused

    Examples:
      | service |
      | rag     |
      | agent   |
      | query   |
