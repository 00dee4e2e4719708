@nats @rag
Feature: Knowledge base ingestion and questions over NATS
  Documents published for ingestion go through a JetStream stream to the RAG service's ingestion
  worker, which acknowledges each one only after it is stored. Questions go to the RAG service's
  workers by request/reply. Both serve every tenant, each message for the tenant its subject names.

  Background:
    Given the RAG service takes questions and documents from the message bus

  @scripted
  Scenario: Published documents are stored and become answerable
    Given the language model answers "Within 30 days." when asked about "refund"
    When the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    Then the knowledge base of the tenant comes to hold "Refund policy" within 5 seconds
    When the API asks over the message bus "How long do I have to get a refund on an annual plan?"
    Then the answer over the message bus is "Within 30 days." citing "Refund policy"

  Scenario: Publishing the same document twice stores it once
    When the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    And the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    Then the knowledge base of the tenant comes to hold "Refund policy" within 5 seconds
    And the ingestion stream holds the document once
    And the knowledge base of the tenant holds the document "Refund policy" once, as 1 chunk

  @security
  Scenario: A question whose request names another tenant is refused
    When the API asks over the message bus "How long do I have to get a refund?" in a request that names the tenant "globex"
    Then the request is refused as "tenant_mismatch", naming "globex"

  @security
  Scenario: A document that names another tenant than its subject is parked, not stored
    When a producer publishes, on the tenant's subject, a document that names the tenant "globex"
    Then the message is parked on the RAG dead-letter subject with the reason "tenant_mismatch" and its original bytes
    And nothing is stored for the tenant "globex"
    And nothing is stored for the tenant
