package dev.lockcache.it;

import dev.lockcache.lock.testkit.ChildJvm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Command lines for child JVMs of this module, with system properties and wrappers (strace, unshare...). */
final class Launch {

    private Launch() {}

    /** The java command line of {@code mainClass} with {@code properties} as {@code -D} options. */
    static List<String> java(Map<String, String> properties, Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>(ChildJvm.javaCommand(mainClass, args));
        List<String> options = new ArrayList<>();
        properties.forEach((k, v) -> options.add("-D" + k + "=" + v));
        command.addAll(1, options);
        return command;
    }

    /** {@link FaultChild} for {@code provider}. */
    static List<String> faultChild(String provider, Map<String, String> properties) {
        return java(properties, FaultChild.class, provider);
    }

    /** {@code prefix} followed by {@code command}. */
    static List<String> under(List<String> prefix, List<String> command) {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(command);
        return all;
    }

    /** A shell command word, single-quoted. */
    static String quote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /** A command line as one shell command, each word quoted. */
    static String shell(List<String> command) {
        List<String> quoted = new ArrayList<>();
        command.forEach(w -> quoted.add(quote(w)));
        return String.join(" ", quoted);
    }
}
