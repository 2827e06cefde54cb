using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.Tests.History;

/// <summary>A plain SQLite connection to a history file, to look under (or tamper with) what the store wrote.</summary>
internal static class RawDatabase
{
    public static SqliteConnection Open(string path, SqliteOpenMode mode = SqliteOpenMode.ReadWrite)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        db.Open();
        return db;
    }

    public static long Scalar(SqliteConnection db, string sql)
    {
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        return Convert.ToInt64(c.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static int Execute(SqliteConnection db, string sql)
    {
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        return c.ExecuteNonQuery();
    }
}
