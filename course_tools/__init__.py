"""course_tools: the instructor's side of the course (release assignments, grade, build the book).

Students never need this package; `course_lib` is what the chapters and assignments import.
Run it as ``python -m course_tools {release,check,grade,book}`` or through the Makefile.
"""
