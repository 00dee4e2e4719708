@nats @chaos @nats-control @slow
Feature: Connection failures
  The NATS server can restart, be down when a component starts, and a worker can crash in the
  middle of its work. Clients reconnect, nothing published is lost, and nothing is stored twice.

  Scenario: The NATS server restarts while documents are flowing
    Given an ingestion worker of the tenant takes documents from the message bus
    When the API publishes 10 documents for ingestion
    And the NATS server restarts
    And the API publishes 10 more documents for ingestion
    Then all 20 documents are stored exactly once within 20 seconds
    And the API and the ingestion worker reconnected to NATS

  Scenario: The server is down when a component starts
    Given the NATS server is stopped
    When a component starts and connects to NATS
    Then it fails with a connection error that names the server's address
    And it failed within its connect timeout

  Scenario: A worker crashes after storing a document but before acknowledging it
    Given ingestion workers wait 1 second for an acknowledgement
    When the API publishes the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." for ingestion
    And an ingestion worker stores the document and crashes before acknowledging it
    And a new ingestion worker of the tenant takes documents from the message bus
    Then the new worker receives the document again within 10 seconds
    And the knowledge base of the tenant holds the document "Refund policy" once, as 1 chunk
