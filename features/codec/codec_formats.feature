@codec
Feature: Messages travel as JSON or MessagePack without losing anything
  Every message type can be written as JSON, which people can read in logs and tools, or as
  MessagePack, which is smaller and faster. Either way a message comes back exactly as it was
  written: text in any script, whole numbers up to 64 bits, decimals to the last digit,
  nested metadata, and RAG chunks with their full 1536-number embeddings.

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

  Scenario Outline: Embeddings of 1536 numbers survive <format> to the last bit
    Given a sample rag_document message with unicode text, big numbers, decimals and nested metadata
    When the codec encodes the message as <format> and decodes it again
    Then every decoded chunk embedding has 1536 numbers identical to the original

    Examples:
      | format  |
      | json    |
      | msgpack |

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
    Then the codec understands the Content-Type "<content type>" as <format>

    Examples:
      | content type                    | format  |
      | application/json                | json    |
      | application/json; charset=utf-8 | json    |
      | Application/JSON                | json    |
      | application/msgpack             | msgpack |
      | application/x-msgpack           | msgpack |
      | application/vnd.msgpack         | msgpack |

  Scenario: A Content-Type the codec does not speak is refused
    Then the codec refuses the Content-Type "application/xml" as unsupported_format

  Scenario: The Content-Type header wins over a guess from the bytes
    Given a sample agent_message message encoded by the codec as msgpack
    When the reader decodes the message using only the Content-Type "application/json"
    Then the reader refuses the message with reason "malformed"
