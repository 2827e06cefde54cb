using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Cxx
    {
        [LibraryImport("libstdc++.so.6", EntryPoint = "__cxa_demangle")]
        private static unsafe partial byte* CxaDemangle(byte* mangled, byte* buffer, nuint* length, int* status);

        [LibraryImport("libc", EntryPoint = "free")]
        private static unsafe partial void Free(void* pointer);

        private static bool s_unavailable;

        /// <summary>The Itanium C++ ABI demangling of <paramref name="name"/> (libstdc++'s __cxa_demangle), or null.</summary>
        internal static unsafe string? TryDemangle(string name)
        {
            if (s_unavailable || !name.StartsWith("_Z", StringComparison.Ordinal) || name.Length > 4096)
            {
                return null;
            }

            byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(name) + 1];
            System.Text.Encoding.UTF8.GetBytes(name, bytes);
            try
            {
                fixed (byte* p = bytes)
                {
                    int status = 0;
                    byte* result = CxaDemangle(p, null, null, &status);
                    if (result == null)
                    {
                        return null;
                    }

                    string text = Marshal.PtrToStringUTF8((nint)result) ?? "";
                    Free(result);
                    return status == 0 ? text : null;
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // A host without libstdc++ shows mangled names.
                s_unavailable = true;
                return null;
            }
        }
    }
}
