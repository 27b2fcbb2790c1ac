"""bpy-free core of the Avatar Driver add-on: wire decoding, name matching, recording maths
and take parsing, kept apart from Blender so plain pytest can exercise it.

Every module here uses the standard library only: the extension ships no wheels.
"""
