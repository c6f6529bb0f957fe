package dev.lockcache.lock.ofd;

/**
 * The layout of the C {@code struct flock} on 64-bit Linux, computed from the members' sizes with natural
 * alignment: {@code short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid;} padded to the
 * largest member. Tests compare it with what the platform's C compiler says.
 */
record FlockLayout(int typeOffset, int whenceOffset, int startOffset, int lenOffset, int pidOffset, int size) {

    /** The layout for 2-byte shorts, 8-byte {@code off_t} and 4-byte {@code pid_t} (every 64-bit Linux). */
    static final FlockLayout LP64 = compute(2, 8, 4);

    static FlockLayout compute(int shortSize, int offSize, int pidSize) {
        int type = 0;
        int whence = align(type + shortSize, shortSize);
        int start = align(whence + shortSize, offSize);
        int len = align(start + offSize, offSize);
        int pid = align(len + offSize, pidSize);
        int largest = Math.max(shortSize, Math.max(offSize, pidSize));
        int size = align(pid + pidSize, largest);
        return new FlockLayout(type, whence, start, len, pid, size);
    }

    private static int align(int offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }
}
