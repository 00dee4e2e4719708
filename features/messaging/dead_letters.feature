@nats @codec
Feature: Messages that cannot be read are parked, not lost
  A consumer that meets a message it cannot decode parks it on the dead-letter subject
  ai.dlq.<component>.<tenant> with the reason and the original bytes, and goes on with the next one.

  Scenario Outline: <payload> is parked as <reason>, and ingestion goes on
    Given the RAG service takes questions and documents from the message bus
    When a producer publishes <payload> for ingestion
    And the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    Then the message is parked on the RAG dead-letter subject with the reason "<reason>" and its original bytes
    And the knowledge base of the tenant comes to hold "Refund policy" within 5 seconds

    Examples:
      | payload                                  | reason              |
      | garbage bytes                            | unknown_format      |
      | a truncated envelope                     | truncated           |
      | an envelope of schema version 9.0        | unsupported_version |
      | an empty document                        | empty_document      |
      | a document whose id holds a dot          | invalid_id          |

  Scenario: Two unreadable documents are both parked, each with its own reason
    Given the RAG service takes questions and documents from the message bus
    When a producer publishes garbage bytes for ingestion
    And a producer publishes an envelope of schema version 9.0 for ingestion
    Then 2 messages are parked on the RAG dead-letter subject, with the reasons "unknown_format" and "unsupported_version"

  @scripted
  Scenario: An unreadable completion request is parked and the caller told why
    Given the gateway service takes completion requests from the message bus
    When a producer sends garbage bytes as a completion request
    Then the caller is told, in the headers and in an error envelope, that the request was refused as "unknown_format"
    And the message is parked on the gateway dead-letter subject with the reason "unknown_format" and its original bytes

  @scripted @own-workers
  Scenario: A document that keeps failing is parked after its last delivery
    Given ingestion workers try a document at most 3 times
    And an instance of the RAG service takes documents from the message bus
    And the embedding model fails with HTTP 503
    When the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    Then the message is parked on the RAG dead-letter subject with the reason "max_deliveries" and its original bytes
    And the document was tried 3 times
    And nothing is stored for the tenant
