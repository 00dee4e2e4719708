@nats @agents
Feature: Agents message each other over NATS
  Agents of a tenant talk on the tenant's agent subject. A message reaches the agent it is
  addressed to and no other, and agents of another tenant see nothing of it.

  Background:
    Given the agents "planner", "researcher" and "writer" of the tenant listen on the message bus

  Scenario: A message reaches its target agent and no other
    When "planner" sends "Please collect the refund rules." to "researcher"
    Then "researcher" receives "Please collect the refund rules." from "planner"
    And "writer" has received nothing
    And "planner" has received nothing

  Scenario: Agents of another tenant see nothing
    Given the agent "researcher" of the tenant "globex" listens on the message bus
    When "planner" sends "Please collect the refund rules." to "researcher"
    Then "researcher" receives "Please collect the refund rules." from "planner"
    And "researcher" of the tenant "globex" has received nothing

  Scenario: The receiving agent continues the sender's trace
    When "planner" sends "Please collect the refund rules." to "researcher" as part of a traced operation
    Then "researcher" handles the message within the sender's trace
