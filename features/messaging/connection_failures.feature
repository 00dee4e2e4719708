@nats @chaos @slow @own-workers
Feature: Connection failures
  The NATS server can restart, be down when a service starts, and a service can crash in the
  middle of its work. Clients reconnect, nothing published is lost, and nothing is stored twice.
  These scenarios start their own instances of the platform's services, each its own process, on a
  NATS server of their own where no other service listens.

  @nats-control
  Scenario: The NATS server restarts while documents are flowing
    Given ingestion workers wait 2 seconds for an acknowledgement
    And an instance of the RAG service takes documents from the message bus
    When the API publishes 10 documents for ingestion
    And the NATS server restarts
    And the API publishes 10 more documents for ingestion
    Then all 20 documents are stored exactly once within 20 seconds
    And the API and the RAG service reach NATS again

  @nats-control
  Scenario Outline: The server is down when the <service> service starts: it says so, and serves once NATS is back
    Given the NATS server is stopped
    When an instance of the <service> service starts
    Then the <service> service is not ready, naming NATS as the dependency it cannot reach
    When the NATS server starts again
    Then the <service> service becomes ready within 10 seconds

    Examples:
      | service |
      | gateway |
      | RAG     |

  @scripted
  Scenario: The RAG service crashes in the middle of ingesting a document; another instance stores it once
    Given ingestion workers wait 1 second for an acknowledgement
    And an instance of the RAG service takes documents from the message bus
    And the embedding model takes 1.5 seconds to answer once
    When the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    And the RAG service crashes while it ingests the document
    And a new instance of the RAG service takes documents from the message bus
    Then the document is delivered again and acknowledged within 10 seconds
    And the knowledge base of the tenant holds the document "Refund policy" once, as 1 chunk

  @scripted
  Scenario: A document that takes longer to embed than the acknowledgement wait is delivered once
    Given ingestion workers wait 1 second for an acknowledgement
    And an instance of the RAG service takes documents from the message bus
    And another instance of the RAG service takes documents from the message bus
    And the embedding model takes 1.8 seconds to answer once
    When the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    Then the document is delivered once and acknowledged within 10 seconds
    And the knowledge base of the tenant holds the document "Refund policy" once, as 1 chunk

  @scripted
  Scenario: A cut link to NATS heals, and requests flow again
    Given an instance of the gateway service listens for completion requests
    And the API reaches NATS through a link that can be cut
    And the language model answers "Still here." when asked about "still there"
    When the link between the API and NATS is cut
    And the API asks over the message bus for a completion of "Are you still there?" with a timeout of 1 seconds
    Then the request fails with a timeout instead of hanging
    When the link between the API and NATS is restored
    Then the API reaches NATS again within 5 seconds
    When the API asks over the message bus for a completion of "Are you still there?" with a timeout of 5 seconds
    Then the reply over the message bus says "Still here."

  @scripted
  Scenario: A slow link delays replies but loses none
    Given an instance of the gateway service listens for completion requests
    And the API reaches NATS through a link that can be cut
    And the language model answers "Slow but sure." when asked about "slow"
    When the link between the API and NATS adds 300 milliseconds in each direction
    And the API asks over the message bus for a completion of "Is the link slow?" with a timeout of 5 seconds
    Then the reply over the message bus says "Slow but sure."
    And the reply took at least 600 milliseconds
