// The qcc binary: every command lives in src/cli; this file only hands over argv.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return qcc::cli::run(argc, argv); }
