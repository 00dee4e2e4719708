@nats @own-workers @scripted
Feature: Workers of a queue group share the load
  However many workers of a queue group listen on a tenant's subject, each request and each task
  is handled exactly once, and the work is spread over the workers. These scenarios start their
  own instances of the platform's services, each its own process, on a NATS server of their own
  where no other service listens, so they control how many there are.

  @gateway
  Scenario: Two gateway workers share the requests, and each request is handled once
    Given the gateway service instances "gateway-east" and "gateway-west" listen for completion requests
    When the API asks over the message bus for 12 completions
    Then every request gets the answer to its own request
    And the language model was asked 12 times
    And both gateway workers answered some of the requests

  @agents
  Scenario: Twenty tasks over three workers are each done once, and all results come back
    Given the tenant has an agent "helper" with the knowledge base search tool, through the agent API
    And 3 instances of the agent service take tasks from the message bus
    And the language model answers "Task done." only when the prompt mentions "task number"
    When the manager submits 20 tasks to the agent "helper"
    Then 20 results come back within 15 seconds
    And every task was done exactly once
    And every result says "Task done."
    And more than one worker did some of the work
