@telemetry @rag @services @scripted
Feature: The knowledge base's traces and metrics
  A question to the knowledge base is one trace: the query API hands it to the RAG service, whose
  knowledge base query embeds the question, searches the vectors and has the gateway generate the
  answer. The search records how many passages it found and how long it took; ingestion records
  the document and its chunks.

  Background:
    Given the tenant has added the document "Opening hours" with the text "The office opens at 8 am on weekdays." through the RAG API
    And the tenant has added the document "Weekend hours" with the text "On weekends the office opens at 10 am." through the RAG API
    And the tenant has added the document "Holiday hours" with the text "On public holidays the office opens at noon." through the RAG API
    And the tenant has added the document "Parking" with the text "Visitors park in the north garage, level two." through the RAG API

  Scenario: A question's trace shows embedding, search and generation inside the knowledge base query
    When a user of the tenant asks the query API "When does the office open?" in rag mode
    Then the request's trace is this tree, each step directly inside the one named:
      | step                 | inside               |
      | query api            | the client           |
      | rag service          | query api            |
      | knowledge base query | rag service          |
      | embedding            | knowledge base query |
      | vector search        | knowledge base query |
      | answer generation    | knowledge base query |
      | gateway              | embedding            |
      | gateway              | answer generation    |
      | cache check          | gateway              |
      | gateway generation   | gateway              |
      | language model       | gateway generation   |
    And the knowledge base query in the request's trace runs, in order:
      | embedding | vector search | answer generation |
    And the span "rag.vector.search" records 3 results
    And the span "rag.query" records a question of 26 characters
    And the span "rag.query" records the tenant as "rag.tenant_id"
    And every span of the request's trace carries the tenant

  Scenario: The vector search records how many passages the caller asked for and how many it found
    When a user of the tenant asks the query API "When does the office open?" in rag mode, keeping the 2 best passages
    Then the span "rag.vector.search" records a search for the 2 best passages and 2 results
    And the span "rag.response.generate" records that the model was given 2 passages

  Scenario: The knowledge base records each answered question and how long its search took
    When a user of the tenant asks the query API "When does the office open?" in rag mode
    Then the completed query counter for the tenant grew by 1, counted as grounded
    And the platform recorded how long the vector search took for the tenant
    And the platform recorded how long the knowledge base query took for the tenant

  Scenario: Adding a document is one trace, down to the embedding model
    When the tenant adds the document "Lost and found" with the text "Lost items wait at the front desk for a month." through the RAG API
    Then the request's trace passes through:
      | rag service | ingestion | gateway | gateway generation | language model |
    And the request's trace records an "embeddings" call to the embedding model with the tokens it reported
    And the span "rag.document.ingest" records the document "Lost and found" stored as 1 chunk
    And the ingested document counter for the tenant grew by 1
