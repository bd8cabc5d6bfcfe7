"""GET /reports/settlement-efficiency: instructions settled on their intended date."""
