@rag @nats @security @scripted
Feature: Removing a tenant removes everything it kept
  When a tenant leaves, the platform deletes everything it owned: its documents and their chunks, its
  agents and their memory, the messages its agents sent each other, its messages in the streams, its own
  consumers, its parked dead letters, its cached answers and its cache counts (the statistics read 0 hits,
  0 misses and 0 entries afterwards), and a document it queued for ingestion that is not stored yet, which
  is then never stored. Nothing that belongs to another tenant goes with it.
  The operator does it with one call (DELETE /api/v1/tenants/<tenant>); the suite cleans up after every
  scenario in the same way.

  Background:
    Given the RAG service takes questions and documents from the message bus
    And the tenant and the tenant "globex" each own, on the platform:
      | what they own                                              |
      | a document, stored as chunks                               |
      | an agent that remembers a conversation                     |
      | messages its agents sent each other                        |
      | an ingestion consumer of its own                           |
      | a document ingested from the message bus                   |
      | a message parked as a dead letter, with its reason         |
      | cached answers and the counts of its cache hits and misses |

  @storage
  Scenario: A removed tenant leaves nothing behind, not even the document it was ingesting, and the other tenant keeps everything
    Given the embedding model takes 1.5 seconds to answer once
    When the tenant adds the document "Holiday hours" with the text "The office closes on 24 December." through the RAG API, for ingestion in the background
    And the tenant "globex" adds the document "Globex holidays" with the text "Globex closes for the whole of August, staff and all." through the RAG API, for ingestion in the background
    And the platform removes the tenant while the RAG service is embedding "Holiday hours"
    Then the RAG API does not list "Holiday hours" once the ingestion queue is drained, within 15 seconds
    And the tenant owns nothing of any kind any more
    And nothing is stored for the tenant
    And the database keeps no row of the tenant
    And NATS keeps no message and no consumer of the tenant
    And the gateway service keeps no cached answer of the tenant
    And the tenant "globex" still owns everything it owned before the removal
    And the RAG API lists "Globex holidays" among the documents of the tenant "globex"
