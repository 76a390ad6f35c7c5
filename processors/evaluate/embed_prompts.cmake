# Writes OUT: a C++ source holding every prompts/*.txt as a raw string, so the binary carries its
# judge prompts (an installed tracefeed has no source tree). Run by add_custom_command in
# CMakeLists.txt; inputs: DIR (the prompts folder), OUT (the file to write), NAMES (;-list).
set(body "// Generated from processors/evaluate/prompts/*.txt by embed_prompts.cmake. Do not edit.\n")
string(APPEND body "#include \"processors/evaluate/prompts.h\"\n\nnamespace tracefeed::evaluate {\n\n")
string(APPEND body "const std::vector<std::pair<std::string_view, std::string_view>>& builtin_prompt_texts() {\n")
string(APPEND body "  static const std::vector<std::pair<std::string_view, std::string_view>> texts = {\n")
foreach(name IN LISTS NAMES)
  file(READ "${DIR}/${name}.txt" text)
  string(FIND "${text}" ")tfprompt\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${DIR}/${name}.txt contains the raw-string terminator )tfprompt\"")
  endif()
  string(APPEND body "      {\"${name}\", R\"tfprompt(${text})tfprompt\"},\n")
endforeach()
string(APPEND body "  };\n  return texts;\n}\n\n}  // namespace tracefeed::evaluate\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
