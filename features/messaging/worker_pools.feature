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

  @rag
  Scenario: Two RAG instances share the questions, and each question is answered once
    Given the knowledge base of the tenant holds these documents:
      | title         | text                                                      |
      | Refund policy | Annual plans can be refunded within 30 days of purchase. |
    And the knowledge base only uses passages with a similarity of at least 0.1
    And the RAG service instances "rag-east" and "rag-west" take questions and documents from the message bus
    When the API asks over the message bus 12 different questions about the refund policy
    Then every question gets the answer to its own question
    And the language model was asked 12 times
    And both RAG instances answered some of the questions

  @rag @telemetry
  Scenario: Two RAG instances share the ingestion stream, and each document is stored once
    Given the RAG service instances "rag-east" and "rag-west" take questions and documents from the message bus
    When the API publishes 16 documents for ingestion
    Then all 16 documents are stored exactly once within 20 seconds
    And each document was ingested once, and both RAG instances ingested some of them

  @agents @telemetry
  Scenario: A message to an agent hosted by two agent service instances is handled once
    Given the agent service hosts the agents "researcher", "writer" and "editor"
    And the language model answers "The office is closed in August." when asked about "holidays"
    And 2 instances of the agent service take messages between agents from the message bus
    And the agent "planner" of the tenant listens on the message bus
    When "planner" sends "Which holidays does the office keep?" to "researcher"
    Then "planner" receives "The office is closed in August." from "researcher"
    And "researcher" of the agent service receives the request "Which holidays does the office keep?" from "planner"
    And the language model was asked once
    And one agent service instance took the message
