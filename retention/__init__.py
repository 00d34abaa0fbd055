"""Retention, appraisal, destruction and transfer."""
