"""Order documents (issue 8): uploads, the invoice checker, the Factur-X invoice and credit-note generator."""
