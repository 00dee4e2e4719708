@rag @nats @security @scripted
Feature: Removing a tenant removes everything it kept
  When a tenant leaves, the platform deletes its documents, their chunks, its agents' memory,
  its messages in the streams, its consumers and its cached answers, and nothing that belongs to
  another tenant.
  The operator does it with one call (DELETE /api/v1/tenants/<tenant>); the suite cleans up after every
  scenario in the same way.

  @storage
  Scenario: A removed tenant leaves nothing behind, and the other tenant keeps everything
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase."
    And the tenant "globex" has added the document "Globex price list" with the text "The rocket costs 900 dollars at Globex, delivery extra."
    And the tenant has a support agent "concierge"
    And the RAG service takes questions and documents from the message bus
    When the user tells the agent "Hello, my name is Ada." in session "morning"
    And a client asks the gateway service "Which desk books travel?"
    And the API publishes the document "Travel policy" with the text "Book travel two weeks ahead through the travel desk." for ingestion
    Then the knowledge base of the tenant comes to hold "Travel policy" within 5 seconds
    When the platform removes the tenant
    Then nothing is stored for the tenant
    And the database keeps no row of the tenant
    And NATS keeps no message and no consumer of the tenant
    And the gateway service keeps no cached answer of the tenant
    And the knowledge base of the tenant "globex" holds only "Globex price list"
