@rag @scripted
Feature: Answering questions from the knowledge base
  A question is answered from the passages that match it best, the answer cites the documents
  it came from, and the model is given those passages and told to stay within them.
  When nothing relevant is found, the platform says so instead of letting the model invent an answer.

  Background:
    Given the knowledge base of the tenant holds these documents:
      | title           | text                                                                                    |
      | Refund policy   | Annual plans can be refunded within 30 days of purchase. Monthly plans are not refundable. |
      | Office handbook | The office opens at 8 am and closes at 6 pm. Dogs are welcome in the office on Fridays.  |
      | Security policy | Passwords are rotated every 90 days and multi-factor authentication is required for all staff. |

  Scenario: A question is answered from the right document, with its source cited
    Given the language model answers "Annual plans can be refunded within 30 days." when asked about "refund"
    When the tenant asks the knowledge base "How long do I have to get a refund on an annual plan?"
    Then the answer is "Annual plans can be refunded within 30 days."
    And the answer says it rests on passages of the knowledge base
    And the answer cites "Refund policy"
    And the answer does not cite "Office handbook"
    And the answer reports the token usage the language model reported

  Scenario: The model is given the retrieved passage and told to answer from it
    When the tenant asks the knowledge base "How long do I have to get a refund on an annual plan?"
    Then the prompt sent to the language model contains "Annual plans can be refunded within 30 days of purchase."
    And the prompt sent to the language model does not contain "Dogs are welcome"
    And the prompt sent to the language model tells it to answer only from the passages

  Scenario: A question with no relevant passage gets the "not in the knowledge base" answer
    When the tenant asks the knowledge base "What is the airspeed velocity of an unladen swallow?"
    Then the answer says the knowledge base does not cover the question
    And the answer cites no source
    And the language model was not asked for an answer

  Scenario: An answer resting on several passages of one document cites that document once
    Given documents are split into chunks of at most 200 characters that overlap by 40
    And the knowledge base uses the 2 best passages with a similarity of at least 0.3
    And the tenant has added the document "Travel policy" with the text "Travel expenses are booked through the travel desk two weeks before departure, and economy class is the default for flights under six hours. Travel expenses for hotels stay within the nightly limit of the destination city, close to the place of work. Travel expenses are reimbursed once the receipts are uploaded within thirty days of return."
    When the tenant asks the knowledge base "How are travel expenses handled?"
    Then the answer rests on 2 passages, best first
    And the answer cites only "Travel policy"

  Scenario Outline: At the similarity threshold <threshold>, the answer <outcome>
    Given the knowledge base only uses passages with a similarity of at least <threshold>
    When the tenant asks the knowledge base "When does the office open and close?"
    Then the answer <outcome>

    Examples:
      | threshold | outcome                                            |
      | 0.2       | cites "Office handbook"                            |
      | 0.95      | says the knowledge base does not cover the question |

  Scenario Outline: Keeping the <top_k> best passages with <similarity>, the answer rests on <count> of them
    Given the knowledge base uses the <top_k> best passages with <similarity>
    When the tenant asks the knowledge base "What is required within days at the office for plans?"
    Then the answer rests on <count> passages, best first
    And the language model was shown <count> passages

    Examples:
      | top_k | similarity                              | count |
      | 1     | a similarity of at least 0              | 1     |
      | 2     | a similarity of at least 0              | 2     |
      | 3     | a similarity of at least 0              | 3     |
      | 3     | a similarity of at least 0.3            | 1     |
      | 3     | the platform's own similarity threshold | 1     |
      | 3     | a similarity of at least 0.95           | 0     |
      | 3     | a similarity of at least 1              | 0     |

  Scenario Outline: A search by <form> finds the <top_k> best passages with <similarity>, best first
    When the tenant searches the knowledge base by <form> "What is required within days at the office for plans?", keeping the <top_k> best passages with <similarity>
    Then the search finds <count> passages, best first, the first from "<first>"

    Examples:
      | form              | top_k | similarity                              | count | first         |
      | the text          | 2     | a similarity of at least 0              | 2     | Refund policy |
      | the embedding of  | 2     | a similarity of at least 0              | 2     | Refund policy |
      | the text          | 3     | a similarity of at least 0              | 3     | Refund policy |
      | the embedding of  | 3     | a similarity of at least 0              | 3     | Refund policy |
      | the text          | 3     | the platform's own similarity threshold | 1     | Refund policy |
      | the embedding of  | 3     | a similarity of at least 0.3            | 1     | Refund policy |
