package dev.lockcache.lock.ofd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code struct flock} layout and the constants the provider hard-codes, checked against the running
 * platform's C headers by compiling a small program with the system's C compiler.
 */
class FlockLayoutTest {

    private static final String PROGRAM = """
            #define _GNU_SOURCE
            #include <errno.h>
            #include <fcntl.h>
            #include <stddef.h>
            #include <stdio.h>
            int main(void) {
                printf("size %zu\\n", sizeof(struct flock));
                printf("l_type %zu\\n", offsetof(struct flock, l_type));
                printf("l_whence %zu\\n", offsetof(struct flock, l_whence));
                printf("l_start %zu\\n", offsetof(struct flock, l_start));
                printf("l_len %zu\\n", offsetof(struct flock, l_len));
                printf("l_pid %zu\\n", offsetof(struct flock, l_pid));
                printf("F_OFD_GETLK %d\\n", F_OFD_GETLK);
                printf("F_OFD_SETLK %d\\n", F_OFD_SETLK);
                printf("F_OFD_SETLKW %d\\n", F_OFD_SETLKW);
                printf("F_RDLCK %d\\n", F_RDLCK);
                printf("F_WRLCK %d\\n", F_WRLCK);
                printf("F_UNLCK %d\\n", F_UNLCK);
                printf("SEEK_SET %d\\n", SEEK_SET);
                printf("O_RDWR %d\\n", O_RDWR);
                printf("O_CREAT %d\\n", O_CREAT);
                printf("O_CLOEXEC %d\\n", O_CLOEXEC);
                printf("EINTR %d\\n", EINTR);
                printf("EAGAIN %d\\n", EAGAIN);
                printf("EACCES %d\\n", EACCES);
                printf("EINVAL %d\\n", EINVAL);
                printf("ENOLCK %d\\n", ENOLCK);
                printf("EOPNOTSUPP %d\\n", EOPNOTSUPP);
                return 0;
            }
            """;

    @TempDir
    Path dir;

    @Test
    void computedLayoutIsTheNaturalLp64One() {
        FlockLayout layout = FlockLayout.LP64;
        assertThat(List.of(
                        layout.typeOffset(),
                        layout.whenceOffset(),
                        layout.startOffset(),
                        layout.lenOffset(),
                        layout.pidOffset(),
                        layout.size()))
                .containsExactly(0, 2, 8, 16, 24, 32);
        // a 32-bit off_t would pack differently: proof that the computation follows the sizes
        FlockLayout ilp32 = FlockLayout.compute(2, 4, 4);
        assertThat(ilp32.startOffset()).isEqualTo(4);
        assertThat(ilp32.size()).isEqualTo(16);
    }

    @Test
    void layoutAndConstantsMatchTheCHeadersOfThisPlatform() throws Exception {
        assumeTrue(Platform.isLinux(), "struct flock for OFD locks is checked on Linux only");
        Map<String, Long> c = compileAndRun();
        FlockLayout layout = FlockLayout.LP64;
        assertThat(c)
                .containsEntry("size", (long) layout.size())
                .containsEntry("l_type", (long) layout.typeOffset())
                .containsEntry("l_whence", (long) layout.whenceOffset())
                .containsEntry("l_start", (long) layout.startOffset())
                .containsEntry("l_len", (long) layout.lenOffset())
                .containsEntry("l_pid", (long) layout.pidOffset())
                .containsEntry("F_OFD_GETLK", (long) OfdSyscalls.F_OFD_GETLK)
                .containsEntry("F_OFD_SETLK", (long) OfdSyscalls.F_OFD_SETLK)
                .containsEntry("F_OFD_SETLKW", (long) OfdSyscalls.F_OFD_SETLKW)
                .containsEntry("F_RDLCK", (long) OfdSyscalls.F_RDLCK)
                .containsEntry("F_WRLCK", (long) OfdSyscalls.F_WRLCK)
                .containsEntry("F_UNLCK", (long) OfdSyscalls.F_UNLCK)
                .containsEntry("SEEK_SET", (long) OfdSyscalls.SEEK_SET)
                .containsEntry("O_RDWR", (long) OfdSyscalls.O_RDWR)
                .containsEntry("O_CREAT", (long) OfdSyscalls.O_CREAT)
                .containsEntry("O_CLOEXEC", (long) OfdSyscalls.O_CLOEXEC)
                .containsEntry("EINTR", (long) OfdSyscalls.EINTR)
                .containsEntry("EAGAIN", (long) OfdSyscalls.EAGAIN)
                .containsEntry("EACCES", (long) OfdSyscalls.EACCES)
                .containsEntry("EINVAL", (long) OfdSyscalls.EINVAL)
                .containsEntry("ENOLCK", (long) OfdSyscalls.ENOLCK)
                .containsEntry("EOPNOTSUPP", (long) OfdSyscalls.EOPNOTSUPP);
        assertThat(OfdSyscalls.CHECKED_ARCHITECTURES)
                .as("this architecture's constants were just checked; it must be one the provider accepts")
                .contains(Platform.ARCH);
    }

    private Map<String, Long> compileAndRun() throws IOException, InterruptedException {
        Path source = Files.writeString(dir.resolve("flock_layout.c"), PROGRAM);
        Path binary = dir.resolve("flock_layout");
        String compiler = findCompiler();
        run(List.of(compiler, "-o", binary.toString(), source.toString()));
        String output = run(List.of(binary.toString()));
        Map<String, Long> values = new HashMap<>();
        for (String line : output.strip().split("\n")) {
            String[] parts = line.split(" ");
            values.put(parts[0], Long.parseLong(parts[1]));
        }
        return values;
    }

    private static String findCompiler() {
        for (String candidate : List.of("/usr/bin/gcc", "/usr/bin/cc", "/usr/bin/clang")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        assumeTrue(
                false,
                "no C compiler (gcc, cc or clang in /usr/bin): cannot check struct flock against the"
                        + " headers; install gcc to run this check");
        throw new IllegalStateException("unreachable");
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
            assertThat(process.exitValue()).as("%s printed %s", command, output).isZero();
            return output;
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
