@services @gateway
Feature: The gateway service over HTTP
  Every component reaches the language model through the gateway service. It answers with the
  contract's envelope, echoes the caller's request and correlation ids, refuses bad input with a
  4xx error that names what is wrong, and reports a failing model as a failed dependency.
  It also speaks the OpenAI wire format, so any OpenAI client can use it.

  @scripted
  Scenario: A completion over HTTP returns the model's text, its token usage and the caller's ids
    Given the language model answers "Paris, on the Seine, has been the capital of France since 987." when asked about "capital of France"
    When a client asks the gateway service "What is the capital of France?" with the request id "req-4711" and the correlation id "journey-42"
    Then the service answers 200 with the text "Paris, on the Seine, has been the capital of France since 987."
    And the response carries the request id "req-4711" and the correlation id "journey-42"
    And the token usage in the response is what the language model reported

  @scripted
  Scenario: A completion over HTTP passes the caller's model, sampling and limits on to the model
    When a client asks the gateway service "Write a haiku about rain." with the model "chat-backup" and a temperature of 0.3 and at most 40 tokens and a top_p of 0.35 and the stop words "END", "STOP", "###", "Q:"
    Then the backup model was asked once
    And the language model was asked with temperature 0.3 and at most 40 tokens
    And the language model was asked with top_p 0.35 and the stop words "END", "STOP", "###", "Q:"

  Scenario: A completion over HTTP of a conversation gives the model the caller's instruction before the question
    When a client asks the gateway service "Write a haiku about rain." under the instruction "Answer as a pirate would."
    Then the language model was given the conversation "system: Answer as a pirate would." then "user: Write a haiku about rain."

  @scripted
  Scenario Outline: <kind> echoes the caller's request and correlation ids in its headers
    When a client asks the gateway service for <kind> with the request id "<request id>" and the correlation id "<correlation id>"
    Then the answer is a 200 whose headers carry the request id "<request id>" and the correlation id "<correlation id>"

    Examples:
      | kind                      | request id  | correlation id   |
      | a streamed completion     | req-stream  | journey-stream-7 |
      | an OpenAI chat completion | req-openai  | journey-openai   |
      | the OpenAI model list     | models-1    | journey-models   |
      | its OpenAPI document      | doc-req-305 | journey-document |

  Scenario: A response carries generated request and correlation ids when the caller sent none
    When a client asks the gateway service "Hello there."
    Then the response carries a request id and a correlation id of its own

  Scenario Outline: <request> gets <status> <code> from the gateway service, never a 500
    When a client sends the gateway service <request>
    Then the service answers <status> with the error code "<code>" naming "<named>"

    Examples:
      | request                                             | status | code               | named                  |
      | a completion request without an API key             | 401    | UNAUTHENTICATED    | Authorization          |
      | a body that is not JSON                             | 422    | MALFORMED_BODY     | JSON                   |
      | a completion request with the temperature 5         | 400    | VALIDATION_ERROR   | temperature            |
      | a completion request with the temperature -0.5      | 400    | VALIDATION_ERROR   | temperature            |
      | a completion request with the top_p 0               | 400    | VALIDATION_ERROR   | top_p                  |
      | a completion request with the top_p 1.5             | 400    | VALIDATION_ERROR   | top_p                  |
      | a completion request with five stop words           | 400    | VALIDATION_ERROR   | stop                   |
      | a completion request with the max_tokens 0          | 400    | VALIDATION_ERROR   | max_tokens             |
      | a completion request with neither prompt nor messages | 400  | VALIDATION_ERROR   | prompt or messages     |
      | a completion request with an empty conversation     | 400    | VALIDATION_ERROR   | messages               |
      | a completion request whose max_tokens is "many"     | 400    | VALIDATION_ERROR   | max_tokens             |
      | a completion request for the model "gpt-9-turbo"    | 400    | VALIDATION_ERROR   | gpt-9-turbo            |
      | a body of 2 MiB                                     | 413    | PAYLOAD_TOO_LARGE  | bytes                  |
      | a GET to the completion route                       | 405    | METHOD_NOT_ALLOWED | GET                    |
      | a request to the route "/api/v1/gateway/teleport"   | 404    | NOT_FOUND          | /api/v1/gateway/teleport |

  @scripted
  Scenario Outline: A model that fails behind the gateway is a failed dependency (<fault>)
    Given the primary model <fault>
    When a client asks the gateway service "Hello, is anyone there?"
    Then the service answers <status> with the error code "<code>" naming "model provider"

    Examples:
      | fault                    | status | code             |
      | fails with HTTP 500      | 502    | DEPENDENCY_ERROR |
      | fails with HTTP 429      | 502    | DEPENDENCY_ERROR |
      | drops the connection     | 502    | DEPENDENCY_ERROR |
      | takes 7 seconds to answer | 504   | DEPENDENCY_TIMEOUT |

  @scripted
  Scenario: The official OpenAI client chats, streams and embeds through the gateway service
    Given the language model answers "Refunds take five business days." when asked about "refund"
    When an OpenAI client asks the gateway service "How long does a refund take?"
    And an OpenAI client streams the gateway service's answer to "How long does a refund take?"
    And an OpenAI client embeds "Annual plans can be refunded." and "Dogs are welcome on Fridays." through the gateway service
    Then the OpenAI client's answer and its stream both say "Refunds take five business days."
    And the OpenAI client received the embedding model's vectors of those 2 texts, in their order

  Scenario: The official OpenAI client lists the models the gateway offers
    When an OpenAI client lists the gateway service's models
    Then the OpenAI client sees the models "chat", "chat-backup" and "embedding"

  @scripted
  Scenario Outline: The gateway refuses <option> by name, in the error the OpenAI client reads
    When an OpenAI client asks the gateway service "Hello, is anyone there?" with <option>
    Then the OpenAI client raises its bad request error naming "<named>"
    And the language model was asked 0 times

    Examples:
      | option                 | named           |
      | two choices            | n               |
      | a tool to call         | tools           |
      | a JSON response format | response_format |
      | log probabilities      | logprobs        |

  @security
  Scenario: The OpenAI client with a key the platform never issued gets its authentication error
    When an OpenAI client with a made-up key asks the gateway service "Hello, is anyone there?"
    Then the OpenAI client raises its authentication error naming "not valid"

  @scripted
  Scenario Outline: The OpenAI client's <options> reach the model and shape its answer
    Given the language model answers "Refunds take five business days.END Then the model rambles on and on." when asked about "refund"
    When an OpenAI client asks the gateway service "How long does a refund take for an annual plan?", setting <options>
    Then the language model was asked with the options <received>
    And the OpenAI client's answer is "<text>", ending because of "<reason>"
    And the OpenAI client's answer reports the token usage the language model reported

    Examples:
      | options                            | received                           | text                                                                  | reason |
      | {"temperature": 0.3, "top_p": 0.5} | {"temperature": 0.3, "top_p": 0.5} | Refunds take five business days.END Then the model rambles on and on. | stop   |
      | {"stop": "END"}                    | {"stop": ["END"]}                  | Refunds take five business days.                                      | stop   |
      | {"max_tokens": 3}                  | {"max_tokens": 3}                  | Refunds take five                                                     | length |

  @scripted
  Scenario: A model that breaks off midway fails the OpenAI client's stream with the gateway's error
    Given the language model answers "Refunds take five business days." when asked about "refund"
    And the primary model breaks off in the middle of its next answer
    When an OpenAI client streams the gateway service's answer to "How long does a refund take?"
    Then the OpenAI client's stream fails with an error of type "provider_unavailable", after the first half of "Refunds take five business days."

  @scripted
  Scenario: The last chunk of the OpenAI client's stream carries the model's token usage
    Given the language model answers "Refunds take five business days." when asked about "refund"
    When an OpenAI client streams the gateway service's answer to "How long does a refund take for an annual plan?", asking for the usage
    Then the OpenAI client's stream says "Refunds take five business days."
    And the last chunk of the OpenAI client's stream reports the token usage the language model reported

  @scripted
  Scenario: Embeddings over HTTP: one vector per text, in the order of the texts, with the model's usage
    When a client embeds "Annual plans can be refunded.", "Dogs are welcome in the office on Fridays." and "Passwords rotate." through the gateway service
    Then the service returns the embedding model's vectors of those 3 texts, in their order
    And the embedding model was asked for those 3 texts, in their order
    And the token usage of the embeddings is what the embedding model reported
    And the embeddings name the embedding model that made them
