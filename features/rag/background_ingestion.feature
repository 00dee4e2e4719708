@rag @services
Feature: A document accepted for background ingestion is stored, unless a later delete supersedes it
  The RAG API answers 202 when it queues a document for its ingestion workers. That answer is a
  promise: the document will be stored, unless the tenant deletes it afterwards. A delete is never
  lost, even when it comes while the document still waits in the queue, and a document added
  again after a delete is stored again.

  @scripted
  Scenario: A document deleted while it waits for ingestion is never stored; added again, it is
    Given the embedding model takes 1 seconds to answer
    When the tenant adds the document "Holiday hours" with the text "The office closes on 24 December." through the RAG API, for ingestion in the background
    Then the RAG API accepts the document for ingestion with a message id
    When the tenant deletes the document "Holiday hours" through the RAG API
    Then the RAG API confirms the deletion
    And the RAG API does not list "Holiday hours" once the ingestion queue is drained, within 10 seconds
    When the tenant adds the document "Holiday hours" with the text "The office closes on 24 December." through the RAG API, for ingestion in the background
    Then the RAG API accepts the document for ingestion with a message id
    And the RAG API lists "Holiday hours" for the tenant within 10 seconds

  Scenario: A second delete of the same document finds nothing to delete
    Given the tenant has added the document "Opening hours" with the text "The office opens at 8 am." through the RAG API
    When the tenant deletes the document "Opening hours" through the RAG API
    Then the RAG API confirms the deletion
    When the tenant deletes the document "Opening hours" through the RAG API
    Then the service answers 404 with the error code "NOT_FOUND" naming "opening-hours"
