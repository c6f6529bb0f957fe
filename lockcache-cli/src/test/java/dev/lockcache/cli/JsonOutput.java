package dev.lockcache.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** Parses a command's {@code --json} stdout. */
final class JsonOutput {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonOutput() {}

    static JsonNode parse(Cli.Result result) throws IOException {
        return MAPPER.readTree(result.stdout());
    }
}
