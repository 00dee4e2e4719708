@codec @library
Feature: Messages travel as JSON or MessagePack without losing anything
  A library specification: these scenarios run the contract's codec itself, no platform service.
  Every message type can be written as JSON, which people can read in logs and tools, or as
  MessagePack, which is smaller and faster. Either way a message comes back exactly as it was
  written: text in any script, whole numbers up to 64 bits, decimals to the last digit,
  nested metadata, and RAG chunks with their full 1536-number embeddings. That holds for the
  messages components exchange: agents talking to each other, requests to the gateway,
  documents and questions for the RAG workers, and the error replies workers send back.

  A reader knows how to decode a message from its Content-Type header, and can also tell
  the format from the first byte of the message alone: a JSON message starts with "{", a
  MessagePack message starts with a map marker.

  Scenario Outline: <message type> comes back unchanged from <format>
    Given a sample <message type> message with unicode text, big numbers, decimals and nested metadata
    When the codec encodes the message as <format> and decodes it again
    Then the decoded message equals the original, field by field
    And the decoded message says it was read as <format>

    Examples: JSON
      | message type      | format |
      | agent_message     | json   |
      | agent_task        | json   |
      | llm_request       | json   |
      | llm_response      | json   |
      | embedding_request | json   |
      | rag_document      | json   |
      | rag_query         | json   |
      | rag_result        | json   |
      | error             | json   |

    Examples: MessagePack
      | message type      | format  |
      | agent_message     | msgpack |
      | agent_task        | msgpack |
      | llm_request       | msgpack |
      | llm_response      | msgpack |
      | embedding_request | msgpack |
      | rag_document      | msgpack |
      | rag_query         | msgpack |
      | rag_result        | msgpack |
      | error             | msgpack |

  Scenario Outline: Embeddings of 1536 numbers survive <format> to the last bit
    Given a sample rag_document message with unicode text, big numbers, decimals and nested metadata
    When the codec encodes the message as <format> and decodes it again
    Then every decoded chunk embedding has 1536 numbers identical to the original

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario Outline: A RAG document of 10 KB in 10 embedded chunks arrives intact (<format>)
    Given the API sends the RAG document "Q3 report" for tenant "acme" with 10 KB of text in 10 chunks embedded with 1536 numbers each
    When the codec carries the message as <format>, labelled with its Content-Type
    Then the reader finds the document "Q3 report" with its text, its 10 chunks and every embedding number unchanged

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario Outline: A gateway request keeps its conversation and parameters (<format>)
    Given a component sends the gateway a request for tenant "acme" to model "gpt-4o-mini" at temperature 0.2 for at most 256 tokens with the conversation:
      | role      | content                                 |
      | system    | You answer from the tenant's documents. |
      | user      | What were the Q3 risks?                 |
      | assistant | Which quarter do you mean?              |
      | user      | Q3 2024, für Zürich.                    |
    When the codec carries the message as <format>, labelled with its Content-Type
    Then the reader finds a request for tenant "acme" to model "gpt-4o-mini" at temperature 0.2 for at most 256 tokens with the same conversation

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario Outline: A RAG question asked <asked> arrives with its parameters (<format>)
    Given the API asks the RAG workers "Who signed the contract?" for tenant "acme" <asked>
    When the codec carries the message as <format>, labelled with its Content-Type
    Then the reader finds the question "Who signed the contract?" for tenant "acme" with the top <top k> passages above similarity <threshold>

    Examples: The documented defaults
      | asked              | format  | top k | threshold |
      | with no parameters | json    | 5     | 0.7       |
      | with no parameters | msgpack | 5     | 0.7       |

    Examples: Parameters of the caller
      | asked                                           | format  | top k | threshold |
      | for the top 3 passages above similarity 0.75    | json    | 3     | 0.75      |
      | for the top 100 passages above similarity 0.0   | msgpack | 100   | 0.0       |

  Scenario Outline: The format of a <format> message is known from its first byte and its header
    Given a sample agent_message message encoded by the codec as <format>
    Then the codec detects <format> from the first byte of the message
    And the codec labels the message with the Content-Type "<content type>"
    When the reader decodes the message using only the Content-Type "<content type>"
    Then the reader reads it as is

    Examples:
      | format  | content type        |
      | json    | application/json    |
      | msgpack | application/msgpack |

  Scenario Outline: The Content-Type "<content type>" means <format>
    When a reader looks up the format of the Content-Type "<content type>"
    Then the reader takes the Content-Type as <format>

    Examples:
      | content type                    | format  |
      | application/json                | json    |
      | application/json; charset=utf-8 | json    |
      | Application/JSON                | json    |
      | application/msgpack             | msgpack |
      | application/x-msgpack           | msgpack |
      | application/vnd.msgpack         | msgpack |

  Scenario: A Content-Type the codec does not speak is refused
    When a reader looks up the format of the Content-Type "application/xml"
    Then the reader refuses the message with reason "unsupported_format"
    And the refusal says "application/xml"

  Scenario: The Content-Type header wins over a guess from the bytes
    Given a sample agent_message message encoded by the codec as msgpack
    When the reader decodes the message using only the Content-Type "application/json"
    Then the reader refuses the message with reason "malformed"
