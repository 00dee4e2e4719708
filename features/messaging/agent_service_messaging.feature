@nats @agents @services @scripted
Feature: The agent service's agents ask each other over the message bus
  An agent of the agent service can send a request to any agent of its tenant, wherever that agent
  runs. The agent it is addressed to keeps the request, answers it with the language model, and the
  answer comes back to the sender on the tenant's agent subject. No other agent, and nothing of
  another tenant, sees either message.

  Background:
    Given the agent service hosts the agents "planner", "researcher" and "writer"
    And the language model answers "Refunds are accepted within 30 days of purchase." when asked about "refund rules"

  Scenario: An agent asks another agent and gets its answer
    When "planner" of the agent service sends "Please collect the refund rules." to "researcher"
    Then the agent service accepted the message for sending
    And "researcher" of the agent service receives the request "Please collect the refund rules." from "planner"
    And "planner" of the agent service receives the answer "Refunds are accepted within 30 days of purchase." from "researcher"
    And "writer" of the agent service has received nothing

  Scenario: An agent of the agent service answers an agent that runs elsewhere
    Given the agent "auditor" of the tenant listens on the message bus
    When "auditor" sends "What are the refund rules?" to "researcher"
    Then "auditor" receives "Refunds are accepted within 30 days of purchase." from "researcher"
    And "researcher" of the agent service receives the request "What are the refund rules?" from "auditor"

  @security
  Scenario: An agent of another tenant with the same name sees nothing of it
    Given the agent service hosts the agent "researcher" of the tenant "globex"
    When "planner" of the agent service sends "Please collect the refund rules." to "researcher"
    Then "planner" of the agent service receives the answer "Refunds are accepted within 30 days of purchase." from "researcher"
    And "researcher" of the tenant "globex" of the agent service has received nothing

  Scenario: An agent the tenant does not have cannot send
    When "ghost" of the agent service sends "Please collect the refund rules." to "researcher"
    Then the service answers 404 with the error code "NOT_FOUND" naming "ghost"
    And "researcher" of the agent service has received nothing

  Scenario: A removed tenant's agents come back without their messages
    Given "planner" of the agent service has asked "researcher" "Please collect the refund rules." and got the answer
    When the platform removes the tenant
    And the tenant defines the agents "planner", "researcher" and "writer" in the agent service again
    Then "planner" of the agent service has received nothing
    And "researcher" of the agent service has received nothing
