"""Bulk onboarding from Excel (批量导入): departments, sites, users and checklist templates in one
workbook; previewed row by row before anything is saved; exported back in the same format."""
