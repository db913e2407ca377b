"""Streamlit-side helpers shared by the pages: rendering only, decisions stay in `workbench/`."""
