@nats @agents @scripted
Feature: The agent service does the tasks a manager puts on the message bus
  A manager puts tasks on the tenant's task subject. The agent service's worker, in the queue group
  "agent.workers", has the tenant's agent do each one and reports every result, done or failed, on
  the tenant's results subject: a task never vanishes without a word.

  Background:
    Given the agent service takes tasks from the message bus

  Scenario: Tasks for the tenant's agent are each done once, and every result comes back
    Given the tenant has an agent "helper" with the knowledge base search tool, through the agent API
    And the language model answers "Task done." only when the prompt mentions "task number"
    When the manager submits 5 tasks to the agent "helper"
    Then 5 results come back within 15 seconds
    And every task was done exactly once
    And every result says "Task done."

  Scenario: A task for an agent the tenant never defined comes back as failed, naming the agent
    When the manager submits 1 task to the agent "ghost"
    Then the result says the task failed, naming "ghost"

  @security
  Scenario: A task cannot be done by another tenant's agent
    Given the tenant "acme" has an agent "helper" with the knowledge base search tool, through the agent API
    When the manager submits 1 task to the agent "helper"
    Then the result says the task failed, naming "helper"
    And the language model was not asked for an answer
