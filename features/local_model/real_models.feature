@local @rag @gateway
Feature: The platform with a real language model and a real embedding model
  With -D llm=local the platform talks to real models on this machine, through LiteLLM as to any
  provider: SmolLM2-135M-Instruct behind llama.cpp's OpenAI-compatible server, and all-MiniLM-L6-v2
  for embeddings. A real model's answers vary, and a model this small sometimes contradicts its
  passage, so no sentence here checks the wording of an answer. What is checked is what the platform
  controls and a broken platform would get wrong: which documents are cited, which passage the model
  is given, the token usage the model server counted, the stream joining into the model's answer.
  These scenarios run only in the local profile; other profiles skip them with that reason.

  Background:
    Given the knowledge base of the tenant holds these documents:
      | title           | text                                                                                          |
      | Refund policy   | Annual plans can be refunded within 30 days of purchase. Monthly plans are not refundable.     |
      | Office handbook | The office opens at 8 am and closes at 6 pm. Dogs are welcome in the office on Fridays.        |
      | Security policy | Passwords are rotated every 90 days and multi-factor authentication is required for all staff. |

  Scenario: A question answered by one document cites it, and the model is given its passage
    When the tenant asks the knowledge base "How long do I have to get a refund on an annual plan?"
    Then the answer cites only "Refund policy"
    And the prompt sent to the language model contains "Annual plans can be refunded within 30 days of purchase."
    And the prompt sent to the language model does not contain "Dogs are welcome"
    And the answer is the text the language model gave

  Scenario Outline: A question with no word in common with its passage finds it by meaning (<document>)
    Given the question "<question>" shares no word with the document "<document>"
    When the tenant asks the knowledge base "<question>"
    Then the answer cites only "<document>"
    And the answer is the text the language model gave

    Examples:
      | question                                            | document        |
      | Can I get my money back if I paid for a whole year? | Refund policy   |
      | At what hour may I show up at work?                 | Office handbook |
      | How often do I need a new login secret?             | Security policy |

  Scenario: A question no document covers is answered without asking the model
    When the tenant asks the knowledge base "Who won the football world cup in 1998?"
    Then the answer says the knowledge base does not cover the question
    And the answer cites no source
    And the language model was not asked for an answer

  Scenario: The gateway reports the token usage the model server counted
    When a component asks the gateway "Please list the seven colours of the rainbow in order, starting with red and ending with violet, one per line." with temperature 0.2 and at most 20 tokens
    Then the token usage the gateway reports is what the language model reported

  Scenario: A streamed answer arrives in pieces that join into the answer the model gave
    When a component streams the gateway's answer to "Describe a sunny day at the beach in two sentences."
    Then the answer arrives in more than one piece
    And the pieces join to the answer the language model gave

  Scenario: The official OpenAI client embeds through the gateway service with the real embedding model
    When an OpenAI client embeds "Annual plans can be refunded." and "Dogs are welcome on Fridays." through the gateway service
    Then the OpenAI client received 2 embeddings of the embedding model's dimensions
