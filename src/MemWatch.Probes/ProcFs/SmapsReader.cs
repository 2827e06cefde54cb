using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Enumerates the records of a smaps file, from memory or streamed from a file through a <see cref="Smaps"/> buffer.
/// <see cref="MoveNext"/> throws <see cref="ProcParseException"/> on malformed input.
/// </summary>
public ref struct SmapsReader
{
    private readonly Smaps? _owner;
    private readonly SafeFileHandle? _handle;
    private readonly string _source;
    private ReadOnlySpan<byte> _window;
    private int _length;
    private long _fileOffset;
    private int _pos;
    private int _recordStart;
    private int _pathStart;
    private bool _eof;
    private int _lineNumber;
    private MappingHeader _header;
    private SmapsFields _fields;

    internal SmapsReader(ReadOnlySpan<byte> text, string source)
    {
        _source = source;
        _window = text;
        _length = text.Length;
        _eof = true;
    }

    internal SmapsReader(Smaps owner, SafeFileHandle handle, string source)
    {
        _owner = owner;
        _handle = handle;
        _source = source;
        _window = default;
    }

    /// <summary>The record last read by <see cref="MoveNext"/>.</summary>
    [UnscopedRef]
    public readonly SmapsEntry Current => new(_header, in _fields);

    /// <summary>True when the process exited while its smaps was being streamed (the records read so far are incomplete).</summary>
    public bool ProcessExited { readonly get; private set; }

    /// <summary>1-based number of the last line consumed.</summary>
    public readonly int LineNumber => _lineNumber;

    public readonly SmapsReader GetEnumerator() => this;

    public bool MoveNext()
    {
        _recordStart = _pos;
        if (!TryGetLine(out int start, out int end, out int next))
        {
            return false;
        }

        ReadOnlySpan<byte> line = _window[start..end];
        if (!MappingHeader.TryParse(line, out _header))
        {
            throw new ProcParseException(_source, _lineNumber + 1, MappingHeader.Describe(line));
        }

        _pathStart = start + (line.Length - _header.Path.Length);
        _lineNumber++;
        _pos = next;
        _fields = default;
        int expectedKey = SmapsFieldParser.FirstKey;
        while (true)
        {
            _pos += SmapsFieldParser.ParseFields(
                _window[_pos.._length], _eof, ref _fields, ref expectedKey, ref _lineNumber, _source, out bool complete);
            if (complete)
            {
                return true;
            }

            ReadMore();
        }
    }

    /// <summary>Closes the file (streaming mode). Safe to call more than once.</summary>
    public void Dispose()
    {
        _handle?.Dispose();
        _eof = true;
    }

    // Finds the line at _pos, reading more of the file when no whole line is buffered. An unterminated final line at
    // end of file is returned as a line (a truncated file then fails on its content, not silently).
    private bool TryGetLine(out int start, out int end, out int next)
    {
        while (true)
        {
            int nl = _window[_pos.._length].IndexOf((byte)'\n');
            if (nl >= 0)
            {
                start = _pos;
                end = _pos + nl;
                next = end + 1;
                return true;
            }

            if (_eof)
            {
                start = _pos;
                end = _length;
                next = _length;
                return _pos < _length;
            }

            ReadMore();
        }
    }

    private void ReadMore()
    {
        Smaps owner = _owner!;
        byte[] buffer = owner.Buffer;
        int keep = _recordStart;
        if (keep > 0)
        {
            buffer.AsSpan(keep, _length - keep).CopyTo(buffer);
            _length -= keep;
            _pos -= keep;
            _pathStart -= keep;
            _recordStart = 0;
        }

        if (_length == buffer.Length)
        {
            if (buffer.Length >= owner.MaxRecordBytes)
            {
                throw new ProcParseException(_source, _lineNumber + 1, $"a record is larger than {owner.MaxRecordBytes} bytes");
            }

            Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, owner.MaxRecordBytes));
            owner.Buffer = buffer;
        }

        int n;
        try
        {
            // Sequential: offsets of seq_file-backed /proc files are positions in the generated text.
            n = RandomAccess.Read(_handle!, buffer.AsSpan(_length), _fileOffset);
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            // ESRCH: the process exited between two reads.
            ProcessExited = true;
            n = 0;
        }

        if (n == 0)
        {
            _eof = true;
        }

        _length += n;
        _fileOffset += n;
        _window = buffer.AsSpan(0, _length);
        if (_pos > _recordStart)
        {
            // The header of the record being read was moved: point its path at the new place.
            _header = new MappingHeader(
                _header.StartAddress,
                _header.EndAddress,
                _header.Permissions,
                _header.Offset,
                _header.DeviceMajor,
                _header.DeviceMinor,
                _header.Inode,
                _window.Slice(_pathStart, _header.Path.Length));
        }
    }
}
