package dev.lockcache.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the numbers were measured on: cores, CPU, JDK, OS and the bench directory's filesystem. */
final class Machine {

    private Machine() {}

    static Map<String, String> describe(Path benchDir) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("cpu", cpuModel());
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put(
                "os",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"));
        m.put("benchDir", benchDir.toString());
        m.put("filesystem", filesystem(benchDir));
        return m;
    }

    private static String filesystem(Path dir) {
        try {
            var store = Files.getFileStore(dir);
            return store.type() + " (" + store.name() + ")";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: say so below
        }
        return "unknown";
    }

    static String markdown(Map<String, String> machine, Profile profile) {
        StringBuilder out = new StringBuilder();
        out.append("Machine: ")
                .append(machine.get("cores"))
                .append(" cores (")
                .append(machine.get("cpu"))
                .append("), ")
                .append(machine.get("jdk"))
                .append(", ")
                .append(machine.get("os"))
                .append("; bench dir ")
                .append(machine.get("benchDir"))
                .append(" on ")
                .append(machine.get("filesystem"))
                .append("; profile ")
                .append(profile.name().toLowerCase())
                .append(".\n");
        return out.toString();
    }
}
