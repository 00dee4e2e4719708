@telemetry @security @services @scripted
Feature: Each tenant's traces and metrics carry its id and no other's
  Spans and metric points name the tenant whose work they record, so an operator can follow one
  tenant's requests and bill its usage; two tenants working at the same moment never show up in
  each other's traces or counters.

  Background:
    Given the tenant "acme" has added the document "Opening hours" with the text "The office opens at 8 am on weekdays." through the RAG API
    And the tenant "globex" has added the document "Opening hours" with the text "The office opens at 9 am on weekdays." through the RAG API

  @rag
  Scenario: Two tenants asking the query API at the same moment get a trace each, naming only them
    When the tenants "acme" and "globex" ask the query API "When does the office open?" at the same time
    Then the two requests have separate traces, each carrying only its own tenant

  @rag @gateway
  Scenario: Each tenant's counters grow by its own requests only
    When the tenants "acme" and "globex" ask the query API "When does the office open?" at the same time
    Then the completed query counter for the tenant "acme" grew by 1
    And the completed query counter for the tenant "globex" grew by 1
    And the gateway's call counter for the tenant "acme" grew by 2
    And the gateway's call counter for the tenant "globex" grew by 2
