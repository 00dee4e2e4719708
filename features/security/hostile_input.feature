@security @services @hostile
Feature: Hostile input gets the contract's error, and the service stays up
  Whatever a client sends, each service answers with a 4xx error envelope that names what was wrong:
  never a 500, never a dropped connection, never a request half done. Text holds no control
  characters but tab and line breaks, and only whole Unicode characters; numbers are finite JSON
  numbers of the type the contract says; ids use one alphabet on HTTP and NATS; a body has a size
  limit and a time limit. After a refusal the client keeps its connection, and the service its health.

  Scenario Outline: <request> with <value> in "<field>" is refused, naming the field
    When a client sends <request> with <value> in "<field>"
    Then the service answers 400 with the error code "VALIDATION_ERROR" naming "<named>"
    And the same connection still gets a healthy answer from the service

    Examples: Documents
      | request    | value                  | field       | named       |
      | a document | a NUL character        | title       | title       |
      | a document | an unpaired surrogate  | content     | content     |
      | a document | an escape character    | content     | content     |
      | a document | 1,001 characters       | title       | title       |
      | a document | a dot                  | document_id | document_id |
      | a document | a greater-than sign    | document_id | document_id |
      | a document | 65 characters          | document_id | document_id |
      | a document | the number 5           | title       | title       |
      | a document | the number 0           | async       | async       |
      | a document | NaN                    | metadata.score | metadata.score |
      | a document | the number 5           | summary     | summary     |

    Examples: Questions and searches
      | request    | value                           | field           | named           |
      | a question | true                            | top_k           | top_k           |
      | a question | the number 101                  | top_k           | top_k           |
      | a question | NaN                             | threshold       | threshold       |
      | a question | a number too large to be finite | threshold       | threshold       |
      | a question | an unpaired surrogate           | query           | query           |
      | a search   | an embedding of 3 numbers       | query_embedding | query_embedding |
      | a search   | Infinity                        | top_k           | top_k           |

    Examples: The gateway
      | request               | value           | field      | named      |
      | a completion request  | the number 0    | stream     | stream     |
      | a completion request  | 1e40            | max_tokens | max_tokens |
      | a completion request  | a NUL character | prompt     | prompt     |
      | an embeddings request | an empty list   | texts      | texts      |

    Examples: Agents and unified queries
      | request         | value                 | field           | named           |
      | an agent        | a star                | agent_id        | agent_id        |
      | an agent        | the number 5          | tool_ids        | tool_ids        |
      | a chat message  | a dot                 | session_id      | session_id      |
      | a task          | the number 101        | priority        | priority        |
      | a unified query | a greater-than sign   | user_id         | user_id         |
      | a unified query | a NUL character       | query           | query           |
      | a unified query | a star                | conversation_id | conversation_id |

  Scenario Outline: An OpenAI chat request with <value> in "<parameter>" is refused in OpenAI's shape, naming it
    When a client sends an OpenAI chat request with <value> in "<parameter>"
    Then the gateway answers 400 with an OpenAI error of the type "invalid_request_error" and the code "VALIDATION_ERROR" for the parameter "<parameter>"
    And the same connection still gets a healthy answer from the service

    Examples: What the gateway does not do is refused, never silently dropped
      | value          | parameter       |
      | the number 2   | n               |
      | a tool list    | tools           |
      | a JSON schema  | response_format |

    Examples: Values the contract forbids
      | value               | parameter          |
      | the text "yes"      | stream             |
      | an escape character | messages.0.content |
      | the text "tool"     | messages.0.role    |
      | 1e40                | max_tokens         |

  Scenario Outline: <request> with <value> in the header <header> is refused, naming the header
    When a client sends <request> with <value> in the header "<header>"
    Then the service answers 400 with the error code "VALIDATION_ERROR" naming "<header>"
    And the same connection still gets a healthy answer from the service

    Examples:
      | request         | value               | header           |
      | a unified query | non-ASCII letters   | X-User-ID        |
      | a question      | a dot               | X-Tenant-ID      |
      | a chat message  | a greater-than sign | X-Request-ID     |
      | an agent        | a space             | X-Correlation-ID |
      | a document      | 65 characters       | X-Correlation-ID |

  Scenario: A chunked body over the limit is refused, though its length was never announced
    When a client sends a document as a chunked body of 2 MiB
    Then the service answers 413 with the error code "PAYLOAD_TOO_LARGE" naming "1048576"
    And the service closes the connection, and its health check answers on a new one
    And nothing is stored for the tenant

  @slow
  Scenario: A body that stops halfway is answered 408 in the time the contract states
    When a client sends a question and stops halfway through its body
    Then the service answers 408 with the error code "REQUEST_TIMEOUT" naming "did not arrive"
    And the rag service answered at the body time its OpenAPI document states
    And the service closes the connection, and its health check answers on a new one
