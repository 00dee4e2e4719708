@telemetry @security @services @scripted
Feature: What users write stays off the spans and out of the logs
  Prompts, answers, questions and document text are the tenants' business: no span of any service
  holds them, whatever kind of request carried them, and no log line holds them either, even with
  every logger at debug level. (The model clients log what they send at debug level: the platform
  keeps them at INFO unless the operator opts in to recording content.) Every span and every point
  of the platform's metrics names the tenant.

  @deploys
  Scenario Outline: Nothing of a <kind> reaches a span or a log, even at debug level
    Given everything the platform logs is watched at debug level
    And the tenant has added the document "Field notes" with the text "The quokka colony QUOKKA-DOC-31 lives on the western ridge." through the RAG API
    And the tenant has an agent "ranger" with the knowledge base search tool, through the agent API
    And the language model answers "Ask the ranger about QUOKKA-ANSWER-58." when asked about "quokka"
    When <request>
    Then no span of the request's trace mentions "QUOKKA"
    And every span of the request's trace carries the tenant
    And every metric point the platform exported since the request names a tenant
    And nothing the platform logged mentions "QUOKKA"

    Examples:
      | kind                      | request                                                                                                                           |
      | completion                | a client asks the gateway service "Where does the quokka QUOKKA-PROMPT-12 sleep?"                                                |
      | streamed completion       | a client streams the gateway service's answer to "Where does the quokka QUOKKA-PROMPT-12 sleep?"                                 |
      | question to the query API | a user of the tenant asks the query API "Where does the quokka QUOKKA-QUESTION-44 live?" in rag mode                            |
      | conversation with an agent | the user asks the agent "ranger" "Where does the quokka QUOKKA-MESSAGE-93 live?" in the conversation "dawn" through the agent API |
      | document added            | the tenant adds the document "Ridge notes" with the text "QUOKKA-DOC-77 burrows lie under the ridge." through the RAG API         |

  @nats
  Scenario Outline: Nothing of a <kind> over the message bus reaches a span
    Given the gateway service takes completion requests from the message bus
    And the RAG service takes questions and documents from the message bus
    And the tenant has added the document "Field notes" with the text "The quokka colony QUOKKA-DOC-31 lives on the western ridge." through the RAG API
    And the language model answers "Ask the ranger about QUOKKA-ANSWER-58." when asked about "quokka"
    When <request>
    Then no span of the request's trace mentions "QUOKKA"
    And every span of the request's trace carries the tenant
    And every metric point the platform exported since the request names a tenant

    Examples:
      | kind            | request                                                                                                                                                  |
      | completion      | the API asks over the message bus for a completion of "Where does the quokka QUOKKA-PROMPT-12 sleep?"                                                   |
      | question        | the API asks over the message bus "Where does the quokka QUOKKA-QUESTION-44 live?"                                                                     |
      | queued document | the tenant adds the document "Ridge notes" with the text "QUOKKA-DOC-77 burrows lie under the ridge." through the RAG API, for ingestion in the background |
