// One behaviour of a JVM, for the runtime corpus. Prints "ready", then "figure NAME VALUE" lines from
// Runtime.totalMemory() and freeMemory(): the JVM's own account of its heap.
import java.util.ArrayList;
import java.util.List;

public class JvmWorkload {
    static void figure() {
        Runtime r = Runtime.getRuntime();
        System.out.println("figure heap_used " + (r.totalMemory() - r.freeMemory()));
        System.out.println("figure heap_committed " + r.totalMemory());
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        List<byte[]> kept = new ArrayList<>();
        String mode = args[0];
        if (mode.equals("stable")) {
            for (int i = 0; i < 50; i++) kept.add(new byte[1 << 20]);
        }
        System.out.println("ready");
        System.out.flush();
        while (true) {
            if (mode.equals("growth")) {
                // About 3 MiB/s kept alive.
                for (int i = 0; i < 300; i++) kept.add(new byte[1024]);
                Thread.sleep(100);
            } else if (mode.equals("churn")) {
                List<byte[]> garbage = new ArrayList<>();
                for (int i = 0; i < 2000; i++) garbage.add(new byte[1024]);
                Thread.sleep(20);
            } else {
                Thread.sleep(1000);
            }
            figure();
        }
    }
}
