@nats @codec
Feature: The services apply the message codec to what reaches them over NATS
  The codec library has its own specification (@library). These scenarios prove that the platform's
  services apply it on the wire: each service that reads a kind of message answers it in either wire
  format, and refuses a message it cannot read with the codec's reason, parks it on its dead-letter
  subject with the original bytes, and tells a caller that waits for a reply why.

  Scenario Outline: The <service> service refuses a <message> with <flaw> as "<reason>" and parks it
    Given the <service> service reads its subjects on the message bus
    When a producer sends the <service> service a <message> with <flaw>
    Then the caller is told, in the headers and in an error envelope, that the request was refused as "<reason>"
    And the message is parked on the <service> dead-letter subject with the reason "<reason>" and its original bytes

    Examples:
      | service | message            | flaw                     | reason               |
      | gateway | completion request | an unknown major version | unsupported_version  |
      | gateway | completion request | a key written twice      | validation_failed    |
      | gateway | completion request | a field of the wrong type | validation_failed   |
      | gateway | completion request | a truncated body         | truncated            |
      | RAG     | question           | an unknown major version | unsupported_version  |
      | RAG     | question           | a key written twice      | validation_failed    |
      | RAG     | question           | a field of the wrong type | validation_failed   |
      | RAG     | question           | a truncated body         | truncated            |

  Scenario Outline: The agent service parks a task with <flaw> as "<reason>", and does the next one
    Given the agent service reads its subjects on the message bus
    And the tenant has an agent "helper" with the knowledge base search tool, through the agent API
    When a producer sends the agent service a task with <flaw>
    And the manager submits 1 task to the agent "helper"
    Then the message is parked on the agent dead-letter subject with the reason "<reason>" and its original bytes
    And 1 results come back within 30 seconds

    Examples:
      | flaw                      | reason              |
      | an unknown major version  | unsupported_version |
      | a key written twice       | validation_failed   |
      | a field of the wrong type | validation_failed   |

  Scenario Outline: The agent service parks a message between agents with <flaw> as "<reason>"
    Given the agent service reads its subjects on the message bus
    When a producer sends the agent service a message between agents with <flaw>
    Then the message is parked on the agent dead-letter subject with the reason "<reason>" and its original bytes

    Examples:
      | flaw                      | reason              |
      | an unknown major version  | unsupported_version |
      | a field of the wrong type | validation_failed   |

  @scripted @rag
  Scenario: The RAG service answers a question written as MessagePack
    Given the RAG service reads its subjects on the message bus
    And the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the language model answers "Within 30 days." when asked about "refund"
    When the API asks over the message bus, as msgpack, "How long do I have to get a refund on an annual plan?"
    Then the answer over the message bus is "Within 30 days." citing "Refund policy"

  @scripted @agents
  Scenario: The agent service does a task written as MessagePack
    Given the agent service reads its subjects on the message bus
    And the tenant has an agent "helper" with the knowledge base search tool, through the agent API
    And the language model answers "Task done." only when the prompt mentions "task number"
    When the manager submits 1 task to the agent "helper" as msgpack
    Then 1 results come back within 10 seconds
    And every result says "Task done."
