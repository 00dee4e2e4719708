@rag @security
Feature: Tenants never see each other's knowledge
  Every document belongs to one tenant. Questions are answered only from the asking
  tenant's documents, and nothing of another tenant's documents reaches the model.

  Background:
    Given the tenant "acme" has added the document "Acme price list" with the text "The rocket costs 500 dollars at Acme, delivery included."
    And the tenant "globex" has added the document "Globex price list" with the text "The rocket costs 900 dollars at Globex, delivery extra."

  @scripted
  Scenario: A tenant's question is answered from its own documents only
    When the tenant "globex" asks the knowledge base "How much does the rocket cost?"
    Then the answer cites "Globex price list"
    And the answer does not cite "Acme price list"
    And no prompt sent to the language model contains "500 dollars"

  Scenario: Each tenant sees only its own documents
    Then the knowledge base of the tenant "acme" holds only "Acme price list"
    And the knowledge base of the tenant "globex" holds only "Globex price list"

  Scenario: A tenant without documents finds nothing, although others have the answer
    When the tenant "initech" asks the knowledge base "How much does the rocket cost?"
    Then the answer says the knowledge base does not cover the question
    And the answer cites no source
