package dev.lockcache.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** The {@code --json} output: one pretty-printed object per command, written by Jackson. */
final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private Json() {}

    /** A new, empty object to fill. */
    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** A tree of {@code value} (records become objects with their component names). */
    static ObjectNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** Prints {@code value} and a newline, and flushes. */
    static void print(PrintWriter out, Object value) {
        try {
            out.println(MAPPER.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write JSON output", e);
        }
        out.flush();
    }
}
