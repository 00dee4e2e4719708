@rag
Feature: Adding documents to the knowledge base
  So that people and agents can ask questions about our documents,
  the platform stores each document as chunks of text with their embeddings,
  for one tenant only, and refuses documents it cannot use without storing anything.

  @service-control @storage
  Scenario: A document is stored as chunks, each with its text and an embedding
    Given documents are split into chunks of at most 200 characters that overlap by 40
    When the tenant adds the document "Travel policy" with this text:
      """
      Employees book travel through the internal travel desk at least two weeks before departure.
      Economy class is the default for flights shorter than six hours; business class needs the
      approval of a director. Hotels are booked close to the place of work, within the nightly
      limit of the destination city. Receipts for every expense are uploaded within thirty days
      of return, otherwise the expense is not reimbursed. Per diem allowances follow the
      national rates and cover meals, local transport and small incidental costs.
      """
    Then the knowledge base of the tenant holds the document "Travel policy"
    And "Travel policy" is stored as 4 chunks of at most 200 characters
    And every chunk of "Travel policy" keeps its text and an embedding from the embedding model
    And the chunks of "Travel policy" together cover the whole text, in order
    And each chunk of "Travel policy" after the first begins with the last 40 characters of the one before

  Scenario: Adding the same document again stores it once
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase."
    When the tenant adds the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase."
    Then the knowledge base of the tenant holds the document "Refund policy" once, as 1 chunk

  @storage
  Scenario: A new version of a document replaces the old one
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase."
    When the tenant adds the document "Refund policy" with the text "Annual plans can be refunded within 60 days of purchase."
    Then the knowledge base of the tenant holds the document "Refund policy" once, as 1 chunk
    And the stored text of "Refund policy" mentions "60 days" and not "30 days"

  Scenario: A document read back by its id shows its title, its type and its chunks, to its own tenant only
    Given the tenant has added the document "Expense rules" with the text "Receipts are uploaded within thirty days of return."
    When the tenant adds the document "Travel guide" of type "text/markdown" with the text "# Travel guide. Employees book travel through the internal travel desk at least two weeks before departure. Economy class is the default for flights shorter than six hours; business class needs the approval of a director. Hotels are booked close to the place of work, within the nightly limit of the destination city. Receipts for every expense are uploaded within thirty days of return, otherwise the expense is not reimbursed. Per diem allowances follow the national rates and cover meals, local transport and small incidental costs."
    Then the tenant reads the document "Travel guide" back by its id: of type "text/markdown", stored as 2 chunks
    And the tenant "globex" reading the document "Travel guide" by its id is told there is no such document

  Scenario: The tenant's document list shows each document with its type and chunks, and how many there are
    Given the tenant has added the document "Opening hours" with the text "The office opens at 8 am on weekdays." through the RAG API
    And the tenant has added the document "Travel guide" with the text "Employees book travel through the internal travel desk at least two weeks before departure. Economy class is the default for flights shorter than six hours; business class needs the approval of a director. Hotels are booked close to the place of work, within the nightly limit of the destination city. Receipts for every expense are uploaded within thirty days of return, otherwise the expense is not reimbursed." through the RAG API
    Then the RAG API lists these documents for the tenant, and says there are 2:
      | title         | type       | chunks |
      | Opening hours | text/plain | 1      |
      | Travel guide  | text/plain | 2      |

  Scenario: A document's type may carry parameters, and is kept as it was given
    When the tenant adds the document "Release notes" of type "text/markdown; charset=utf-8" with the text "## Release 2.1 adds a dark mode to the dashboard."
    Then the tenant reads the document "Release notes" back by its id: of type "text/markdown; charset=utf-8", stored as 1 chunk

  Scenario Outline: A document of type <type> that <reason> is refused, and nothing is stored
    When the tenant adds the document "<title>" of type "<type>" with the text "<text>"
    Then the document is refused because it <reason>
    And nothing is stored for the tenant

    Examples:
      | title        | type            | text                         | reason                          |
      | Blank page   | text/plain      |                              | is empty                        |
      | Empty notes  | text/markdown   |                              | is empty                        |
      | Scanned form | application/pdf | %PDF-1.7 binary content      | has unsupported type 'application/pdf' |
      | Spreadsheet  | text/csv        | a,b,c                        | has unsupported type 'text/csv' |

  @scripted
  Scenario: When the embedding model fails, nothing is half-written
    Given the embedding model fails with HTTP 503
    When the tenant adds the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase."
    Then adding the document fails because the model provider is unavailable
    And the embedding model was asked once
    And nothing is stored for the tenant
