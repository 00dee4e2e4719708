@telemetry @services @scripted
Feature: One trace from the caller to the language model, across services and the message bus
  The trace context travels with every call: in the HTTP headers from service to service, and in
  the NATS message headers both ways, for a request and its reply and for a document queued on
  JetStream. Requests made at the same moment never share a trace, and a failure deep in the
  chain shows as an error exactly where it happened.

  @nats @gateway
  Scenario: A completion requested over the message bus continues the caller's trace to the model
    Given the gateway service takes completion requests from the message bus
    When the API asks over the message bus for a completion of "What is the capital of France?"
    Then the request's trace passes through:
      | message bus | gateway generation | language model |
    And the request's trace crosses the message bus on the tenant's subject "ai.gateway.requests"
    And every span of the request's trace carries the tenant

  @nats @rag
  Scenario: A question asked over the message bus continues the caller's trace through the knowledge base
    Given the RAG service takes questions and documents from the message bus
    And the tenant has added the document "Opening hours" with the text "The office opens at 8 am on weekdays." through the RAG API
    When the API asks over the message bus "When does the office open?"
    Then the request's trace passes through:
      | message bus | knowledge base query | answer generation | gateway | gateway generation | language model |
    And the request's trace crosses the message bus on the tenant's subject "ai.rag.queries"

  @nats @rag
  Scenario: A document queued on JetStream is ingested in the trace of the request that added it
    When the tenant adds the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API, for ingestion in the background
    Then the RAG API lists "Refund policy" for the tenant within 10 seconds
    And the request's trace passes through:
      | rag service | message bus | ingestion | gateway | gateway generation | language model |
    And the request's trace crosses the message bus on the tenant's subject "ai.rag.ingest"
    And every span of the request's trace carries the tenant

  @nats @gateway
  Scenario: Two tenants asking over the message bus at the same moment get a trace each
    Given the gateway service takes completion requests from the message bus
    And the language model answers "Hello, Acme." when asked about "I am Acme"
    And the language model answers "Hello, Globex." when asked about "I am Globex"
    When the tenants "acme" and "globex" ask over the message bus at the same time, each introducing itself
    Then the two requests have separate traces, each carrying only its own tenant

  @rag @gateway
  Scenario: A failing model shows as an error at the model call, inside the hops that led to it
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the primary model fails with HTTP 500
    When a user of the tenant asks the query API "Within how many days can annual plans be refunded?" in rag mode
    Then the query API answers 502 with the error code "DEPENDENCY_ERROR" naming "rag"
    And the request's trace shows the language model failed, with its error recorded, within:
      | query api | rag service | knowledge base query | answer generation | gateway | gateway generation |
