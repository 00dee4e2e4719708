@nats @agents @scripted
Feature: Tasks are shared among agent workers
  A manager puts tasks on the tenant's task subject; workers in the queue group "agent.workers"
  share them, each task is done exactly once however many workers listen, and every result
  comes back on the results subject.

  Scenario: Twenty tasks over three workers are each done once, and all results come back
    Given 3 agent workers of the tenant take tasks from the message bus
    And the language model answers "Task done." only when the prompt mentions "task number"
    When the manager submits 20 tasks to the agent workers
    Then 20 results come back within 15 seconds
    And every task was done exactly once
    And every result says "Task done."
    And more than one worker did some of the work
