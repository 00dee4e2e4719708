@agents @scripted
Feature: An agent remembers the conversation it is in
  Within a session the agent sees the earlier turns, so a follow-up question makes sense.
  A new session starts with a clean memory, and memory never crosses tenants.

  Background:
    Given the tenant has a support agent "concierge"
    And the language model answers "Your name is Ada." only when the prompt mentions "my name is Ada"

  Scenario: The agent remembers an earlier turn in the same session
    When the user tells the agent "Hello, my name is Ada." in session "morning"
    And the user asks the agent "What is my name?" in session "morning"
    Then the agent replies "Your name is Ada."
    And the prompt sent to the language model contains "Hello, my name is Ada."

  Scenario: Another session does not know the earlier turn
    When the user tells the agent "Hello, my name is Ada." in session "morning"
    And the user asks the agent "What is my name?" in session "evening"
    Then the agent does not reply "Your name is Ada."
    And the prompt sent to the language model does not contain "my name is Ada"

  Scenario: Another agent of the tenant does not know the earlier turn, even in the same session
    Given the tenant has a support agent "billing"
    When the user tells the agent "concierge" "Hello, my name is Ada." in session "morning"
    And the user asks the agent "billing" "What is my name?" in session "morning"
    Then the agent does not reply "Your name is Ada."
    And the prompt sent to the language model does not contain "my name is Ada"

  Scenario: The same session name in another tenant shares nothing
    Given the tenant "globex" has a support agent "concierge"
    When the user tells the agent "Hello, my name is Ada." in session "morning"
    And a user of the tenant "globex" asks their agent "What is my name?" in session "morning"
    Then the agent does not reply "Your name is Ada."
    And the prompt sent to the language model does not contain "my name is Ada"

  Scenario: The agent is given the earlier turns of the session in the order they were said
    When the user tells the agent "Hello, my name is Ada." in session "morning"
    And the user tells the agent "I live in Lisbon with two cats." in session "morning"
    And the user asks the agent "Where do I live, and what is my name?" in session "morning"
    Then the language model was given the session's earlier turns, oldest first, before the new message

  Scenario: The agent remembers the last 10 exchanges of a session
    When the user tells the agent 11 numbered messages in session "long"
    And the user asks the agent "What did I tell you first?" in session "long"
    Then the prompt sent to the language model does not contain "Message number 1."
    And the prompt sent to the language model contains "Message number 2."
    And the prompt sent to the language model contains "Message number 11."
