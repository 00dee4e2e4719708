@telemetry @services @scripted
Feature: A failure shows where it happened, in the trace, the counters and the caller's error
  Whatever kind of work fails (a request over HTTP, a chain of services, a request over the message
  bus, an agent task, a document ingested in the background, a streamed answer), the operator can
  see where: the step that failed is marked failed with its error, and so is every step the failure
  passed through on its way back, but no step that went well. The counters count it as a failure,
  not a success, the duration is recorded under the failure, and the caller gets the contract's error.

  @gateway
  Scenario: A completion request over HTTP that the model fails
    Given the primary model fails with HTTP 500
    When a client asks the gateway service "Hello, is anyone there today?"
    Then the service answers 502 with the error code "DEPENDENCY_ERROR" naming "model provider"
    And the request's trace is this tree, each step directly inside the one named:
      | step               | inside             |
      | gateway            | the client         |
      | cache check        | gateway            |
      | gateway generation | gateway            |
      | language model     | gateway generation |
    And in the request's trace exactly these steps failed:
      | gateway | gateway generation | language model |
    And the gateway's failed call counter for the tenant grew by 1, counted as the error "ProviderUnavailable"
    And the gateway's call counter for the tenant grew by 0
    And the platform recorded how long the failed gateway request took for the tenant

  @rag @gateway
  Scenario: A question whose answer the model fails, deep in a chain of services
    Given the tenant has added the document "Opening hours" with the text "The office opens at 8 am on weekdays." through the RAG API
    And the primary model fails with HTTP 500
    When a user of the tenant asks the query API "When does the office open?" in rag mode
    Then the query API answers 502 with the error code "DEPENDENCY_ERROR" naming "rag"
    And the request's trace is this tree, each step directly inside the one named:
      | step                 | inside               |
      | query api            | the client           |
      | rag service          | query api            |
      | knowledge base query | rag service          |
      | embedding            | knowledge base query |
      | vector search        | knowledge base query |
      | answer generation    | knowledge base query |
      | gateway              | embedding            |
      | gateway              | answer generation    |
      | gateway generation   | gateway              |
      | language model       | gateway generation   |
    And in the request's trace exactly these steps failed:
      | query api | rag service | knowledge base query | answer generation | gateway | gateway generation | language model |
    And the failed query counter for the tenant grew by 1
    And the completed query counter for the tenant grew by 0
    And the platform recorded how long the failed knowledge base query took for the tenant

  @rag @own-workers @chaos
  Scenario: A question whose vector search fails because the database cannot be reached
    Given an instance of the RAG service of the scenario's own, reaching what it needs through links that can be cut
    And the database cannot be reached
    When a user of the tenant asks "When does the office open?" through the RAG API
    Then the caller gets 503 "DEPENDENCY_UNAVAILABLE" naming the database
    And in the request's trace exactly these steps failed:
      | rag service | knowledge base query | vector search |
    And the failed query counter for the tenant grew by 1
    And the platform recorded how long the failed vector search took for the tenant
    And the platform recorded how long the failed knowledge base query took for the tenant

  @nats @gateway
  Scenario: A completion requested over the message bus that the model fails
    Given the gateway service takes completion requests from the message bus
    And the primary model fails with HTTP 503
    When the API asks over the message bus for a completion of "What is the capital of Peru?"
    Then the request is refused as "provider_unavailable", naming "chat"
    And the request's trace is this tree, each step directly inside the one named:
      | step               | inside             |
      | message bus        | the client         |
      | gateway generation | message bus        |
      | language model     | gateway generation |
    And in the request's trace exactly these steps failed:
      | message bus | gateway generation | language model |
    And the gateway's failed call counter for the tenant grew by 1
    And the gateway's call counter for the tenant grew by 0

  @nats @agents
  Scenario: An agent task whose model fails comes back failed, and is counted as failed
    Given the agent service takes tasks from the message bus
    And the tenant has an agent "helper" with the knowledge base search tool, through the agent API
    And the primary model fails with HTTP 500
    When the manager submits 1 task to the agent "helper"
    Then the result says the task failed, naming "gateway"
    And the request's trace is this tree, each step directly inside the one named:
      | step             | inside      |
      | message bus      | the client  |
      | agent task       | message bus |
      | memory retrieval | agent task  |
      | tool             | agent task  |
      | rag service      | tool        |
      | embedding        | rag service |
      | vector search    | rag service |
      | gateway          | embedding   |
      | gateway          | agent task  |
    And in the request's trace exactly these steps failed:
      | agent task | gateway | gateway generation | language model |
    And the failed task counter for the tenant grew by 1
    And the executed task counter for the tenant grew by 0
    And the platform recorded how long the failed agent task took for the tenant

  @nats @rag
  Scenario: A document whose first ingestion fails is counted as a failed ingestion, then stored on its next delivery
    Given the embedding model fails with HTTP 503 once
    When the tenant adds the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API, for ingestion in the background
    Then the RAG API lists "Refund policy" for the tenant within 20 seconds
    And the failed ingestion counter for the tenant grew by 1
    And the ingested document counter for the tenant grew by 1
    And the request's trace is this tree, each step directly inside the one named:
      | step           | inside             |
      | rag service    | the client         |
      | message bus    | rag service        |
      | ingestion      | message bus        |
      | gateway        | ingestion          |
      | language model | gateway generation |

  @gateway
  Scenario: A streamed answer the model fails is refused before the stream starts, and traced as failed
    Given the primary model fails with HTTP 500
    When a client streams the gateway service's answer to "Tell me a long story about refunds"
    Then the service answers 502 with the error code "DEPENDENCY_ERROR" naming "model provider"
    And in the request's trace exactly these steps failed:
      | gateway | gateway generation | language model |
    And the gateway's failed call counter for the tenant grew by 1
