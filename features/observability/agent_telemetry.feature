@telemetry @agents @services @scripted
Feature: The agents' traces and metrics
  An agent's answer is one trace: the agent recalls the conversation, runs its tools (the knowledge
  base search calls the RAG service), has the gateway write the answer and remembers the turn. A
  task taken from the message bus runs in the trace of the manager that submitted it, and every
  task is counted, with its status and its duration, for the tenant.

  Scenario: An agent's answer shows the memory it recalled, the tool it ran and the memory it kept
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the tenant has an agent "helpdesk" with the knowledge base search tool, through the agent API
    When the user asks the agent "helpdesk" "Can I get a refund on my annual plan?" in the conversation "morning" through the agent API
    Then the request's trace is this tree, each step directly inside the one named:
      | step               | inside             |
      | agent service      | the client         |
      | memory retrieval   | agent service      |
      | tool               | agent service      |
      | rag service        | tool               |
      | embedding          | rag service        |
      | vector search      | rag service        |
      | gateway            | embedding          |
      | gateway            | agent service      |
      | gateway generation | gateway            |
      | language model     | gateway generation |
      | memory update      | agent service      |
    And the span "agent.tool.execute" records the agent "helpdesk" and the tool "knowledge_base_search"
    And every span of the request's trace carries the tenant

  Scenario: The trace of an answer says how many turns of the conversation the agent recalled and kept
    Given the tenant has an agent "helpdesk" with no tools, through the agent API
    When the user tells the agent "helpdesk" "Hello, my name is Ada." in the conversation "morning" through the agent API
    And the user tells the agent "helpdesk" "I live in Lisbon." in the conversation "morning" through the agent API
    And the user asks the agent "helpdesk" "What is my name?" in the conversation "morning" through the agent API
    Then the span "agent.memory.retrieve" records 4 turns recalled
    And the span "agent.memory.update" records 2 turns added

  @nats
  Scenario: A task from the message bus runs in the manager's trace, and is counted and timed for the tenant
    Given the agent service takes tasks from the message bus
    And the tenant has an agent "helper" with the knowledge base search tool, through the agent API
    And the language model answers "Task done." only when the prompt mentions "task number"
    When the manager submits 1 task to the agent "helper"
    Then every task was done exactly once
    And the request's trace is this tree, each step directly inside the one named:
      | step               | inside             |
      | message bus        | the client         |
      | agent task         | message bus        |
      | memory retrieval   | agent task         |
      | tool               | agent task         |
      | rag service        | tool               |
      | gateway            | embedding          |
      | gateway            | agent task         |
      | gateway generation | gateway            |
      | language model     | gateway generation |
      | memory update      | agent task         |
    And the agent task in the request's trace runs, in order:
      | memory retrieval | tool | memory update |
    And the span "agent.task.execute" records the agent "helper", the task "task-01" and its type "answer"
    And the executed task counter for the tenant grew by 1
    And the platform recorded how long the agent task took for the tenant
