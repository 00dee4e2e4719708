@agents @rag @scripted
Feature: An agent answers from the knowledge base
  A support agent searches the tenant's knowledge base with its search tool before it answers,
  so its answers rest on the tenant's documents and name them.

  Background:
    Given the knowledge base of the tenant holds these documents:
      | title           | text                                                                                      |
      | Refund policy   | Annual plans can be refunded within 30 days of purchase. Monthly plans are not refundable. |
      | Office handbook | The office opens at 8 am and closes at 6 pm. Dogs are welcome in the office on Fridays.    |
    And the tenant has a support agent "helpdesk"

  Scenario: The agent answers from the knowledge base through its search tool
    Given the language model answers "Yes, within 30 days of purchase." only when the prompt mentions "refunded within 30 days"
    When the user asks the agent "Can I get a refund on my annual plan?" in session "chat-1"
    Then the agent replies "Yes, within 30 days of purchase."
    And the agent cites "Refund policy"
    And the agent used its knowledge base search tool
    And the language model was shown 1 passage, numbered

  Scenario: A document added just now is answerable by the agent
    When the tenant adds the document "Holiday calendar" with the text "The office is closed on 24 December and on 31 December."
    And the user asks the agent "Is the office closed on 24 December?" in session "chat-1"
    Then the agent cites "Holiday calendar"
    And the prompt sent to the language model contains "closed on 24 December and on 31 December"

  Scenario: The agent says what it found nothing about, without citing a document
    When the user asks the agent "What is the airspeed velocity of an unladen swallow?" in session "chat-1"
    Then the agent cites no source
    And the prompt sent to the language model contains "nothing relevant"

  Scenario: An agent never acts for another tenant
    When the agent "helpdesk" is asked to act for the tenant "globex"
    Then the agent refuses because it belongs to another tenant
    And the language model was not asked for an answer
