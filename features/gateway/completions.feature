@gateway @scripted
Feature: Completions through the LLM gateway
  Every component asks the language model through the gateway. The gateway returns the
  model's text with the token usage the provider reported, passes the caller's parameters on,
  and can stream the answer piece by piece.

  Scenario: A completion returns the model's text and its token usage
    Given the language model answers "Paris, on the Seine, has been the capital of France since 987." when asked about "capital of France"
    When a component asks the gateway "What is the capital of France?"
    Then the gateway returns "Paris, on the Seine, has been the capital of France since 987."
    And the token usage the gateway reports is what the language model reported

  Scenario Outline: The caller's parameters reach the model: temperature <temperature>, at most <tokens> tokens
    When a component asks the gateway "Write a haiku about rain." with temperature <temperature> and at most <tokens> tokens
    Then the language model was asked with temperature <temperature> and at most <tokens> tokens

    Examples: the range's edges are the caller's to use
      | temperature | tokens |
      | 0.2         | 50     |
      | 0           | 1      |
      | 2           | 4000   |

  Scenario Outline: Nucleus sampling <top_p> and stop words reach the model
    When a component asks the gateway "List three colours." with top_p <top_p> and the stop word "END"
    Then the language model was asked with top_p <top_p> and the stop word "END"

    Examples:
      | top_p |
      | 0.35  |
      | 1     |

  Scenario: Streaming delivers the whole answer in pieces
    Given the language model answers "Streaming sends the answer a few words at a time." when asked about "streaming"
    When a component streams the gateway's answer to "How does streaming work?"
    Then the answer arrives in more than one piece
    And the pieces join to "Streaming sends the answer a few words at a time."
    And the streamed answer reports the token usage the language model reported

  Scenario Outline: The model the caller names is the one that answers (<role>)
    Given the primary model answers "The primary model answers you."
    And the backup model answers "The backup model is answering this one instead."
    When a component asks the gateway "Who is answering?" using the <role> model
    Then the gateway returns "<text>"
    And the answer came from the <role> model

    Examples:
      | role    | text                                             |
      | primary | The primary model answers you.                   |
      | backup  | The backup model is answering this one instead.  |

  Scenario Outline: <limit> ends the answer where the model stops writing
    Given the language model answers "Red, green and blue.END Then the model rambles on about purple." when asked about "colours"
    When a component asks the gateway "List three colours of the rainbow for me." with <limit>
    Then the gateway returns "<text>"
    And the answer ended because of "<reason>"
    And the token usage the gateway reports is what the language model reported

    Examples:
      | limit               | text                                                           | reason |
      | no limit            | Red, green and blue.END Then the model rambles on about purple. | stop   |
      | the stop word "END" | Red, green and blue.                                           | stop   |
      | at most 3 tokens    | Red, green and                                                 | length |

  Scenario Outline: Streaming delivers the whole answer in pieces, through <route>, with the model's usage at the end
    Given the language model answers "Streaming sends the answer a few words at a time." when asked about "streaming"
    When a component streams the gateway's answer to "How does streaming work?" through <route>
    Then the answer arrives in more than one piece
    And the pieces join to "Streaming sends the answer a few words at a time."
    And the streamed answer reports the token usage the language model reported

    Examples:
      | route                          |
      | the streaming route            |
      | the completion route, streamed |

  Scenario Outline: A model that breaks off midway ends the stream with an error event, through <route>
    Given the language model answers "Streaming sends the answer a few words at a time." when asked about "streaming"
    And the primary model breaks off in the middle of its next answer
    When a component streams the gateway's answer to "How does streaming work?" through <route>
    Then the stream ends in an error event naming "model provider", after the first half of "Streaming sends the answer a few words at a time."

    Examples:
      | route                          |
      | the streaming route            |
      | the completion route, streamed |

  Scenario: A streamed answer honours the caller's token limit and says so at the end
    Given the language model answers "Streaming sends the answer a few words at a time." when asked about "streaming"
    When a component streams the gateway's answer to "How does streaming work?" with at most 5 tokens
    Then the pieces join to "Streaming sends the answer a"
    And the streamed answer ended because of "length"
    And the streamed answer reports the token usage the language model reported
