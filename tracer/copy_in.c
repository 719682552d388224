/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "copy_in.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory_tracer/serial_protocol.h"

#define PAGE 4096u

static void entry_free(gpointer p)
{
    CopyEntry *e = p;
    g_free(e->host);
    g_free(e->rel);
    g_free(e->target);
    g_free(e);
}

void copy_in_free(CopyIn *c)
{
    if (c) {
        g_ptr_array_unref(c->entries);
        g_free(c);
    }
}

static bool cannot_read(GError **err, const char *path, int e)
{
    g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                "copy_to_guest: cannot read %s: %s", path, g_strerror(e));
    return false;
}

static int by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add @host (already lstat()ed into @st) as @rel, and a directory's
 * contents after it. */
static bool scan(CopyIn *c, const char *host, const char *rel,
                 const struct stat *st, GError **err)
{
    if (strlen(rel) > MT_ENTRY_PATH_MAX) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "copy_to_guest: %s: its path in the guest is longer "
                    "than %d bytes", host, MT_ENTRY_PATH_MAX);
        return false;
    }
    CopyEntry *e = g_new0(CopyEntry, 1);
    e->host = g_strdup(host);
    e->rel = g_strdup(rel);
    e->mode = st->st_mode & 07777;
    g_ptr_array_add(c->entries, e);
    if (S_ISREG(st->st_mode)) {
        int fd = open(host, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            return cannot_read(err, host, errno);
        }
        close(fd);
        e->type = 'f';
        e->size = (guint64)st->st_size;
        c->file_bytes += e->size;
        c->need_bytes += (e->size + PAGE - 1) / PAGE * PAGE;
        return true;
    }
    c->need_bytes += PAGE;
    if (S_ISLNK(st->st_mode)) {
        e->type = 'l';
        g_autoptr(GError) e2 = NULL;
        e->target = g_file_read_link(host, &e2);
        if (!e->target) {
            return cannot_read(err, host, errno ? errno : EIO);
        }
        return true;
    }
    if (!S_ISDIR(st->st_mode)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                    "copy_to_guest: %s is not a regular file, a directory "
                    "or a symbolic link", host);
        return false;
    }
    e->type = 'd';
    GDir *d = g_dir_open(host, 0, NULL);
    if (!d) {
        return cannot_read(err, host, errno ? errno : EACCES);
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d))) {
        g_ptr_array_add(names, g_strdup(n));
    }
    g_dir_close(d);
    g_ptr_array_sort(names, by_name);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *h = g_build_filename(host, name, NULL);
        g_autofree char *r = g_strconcat(rel, "/", name, NULL);
        struct stat cst;
        if (lstat(h, &cst) != 0) {
            return cannot_read(err, h, errno);
        }
        if (!scan(c, h, r, &cst, err)) {
            return false;
        }
    }
    return true;
}

CopyIn *copy_in_scan(char *const *paths, const char *reserved, GError **err)
{
    g_autoptr(CopyIn) c = g_new0(CopyIn, 1);
    c->entries = g_ptr_array_new_with_free_func(entry_free);
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash,
                                                        g_str_equal, g_free,
                                                        g_free);
    for (char *const *p = paths; p && *p; p++) {
        g_autofree char *abs = g_canonicalize_filename(*p, NULL);
        struct stat st;
        /* The path the user named is followed; inside it links stay
         * links. */
        if (stat(abs, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            "copy_to_guest must be a file or dir path, but "
                            "%s isn't.", abs);
                return NULL;
            }
            cannot_read(err, abs, errno);
            return NULL;
        }
        g_autofree char *name = g_path_get_basename(abs);
        if (strcmp(name, "/") == 0) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "copy_to_guest: / cannot be copied as a whole");
            return NULL;
        }
        const char *other = g_hash_table_lookup(names, name);
        if (other || (reserved && strcmp(name, reserved) == 0)) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "copy_to_guest: %s and %s would both be %s in the "
                        "guest's working directory", abs,
                        other ? other : "the workload", name);
            return NULL;
        }
        g_hash_table_insert(names, g_strdup(name), g_strdup(abs));
        if (!scan(c, abs, name, &st, err)) {
            return NULL;
        }
    }
    return g_steal_pointer(&c);
}

GByteArray *copy_in_archive(const CopyIn *c, GError **err)
{
    MtCrc32Table tab;
    mt_crc32_table_init(&tab);
    g_autoptr(GByteArray) out = g_byte_array_new();
    for (guint i = 0; i < c->entries->len; i++) {
        const CopyEntry *e = c->entries->pdata[i];
        g_autofree char *data = NULL;
        gsize len = 0;
        if (e->type == 'f') {
            g_autoptr(GError) e2 = NULL;
            if (!g_file_get_contents(e->host, &data, &len, &e2)) {
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "copy_to_guest: %s", e2->message);
                return NULL;
            }
        } else if (e->type == 'l') {
            data = g_strdup(e->target);
            len = strlen(data);
        }
        MtEntry me = {
            .type = e->type, .mode = e->mode, .size = len,
            .crc = mt_crc32_update(&tab, 0, data, len),
            .path_len = strlen(e->rel),
        };
        char line[MT_LINE_MAX];
        int n = mt_format_entry_header(line, sizeof(line), &me);
        g_byte_array_append(out, (const guint8 *)line, (guint)n);
        g_byte_array_append(out, (const guint8 *)e->rel, (guint)me.path_len);
        if (len) {
            g_byte_array_append(out, (const guint8 *)data, (guint)len);
        }
    }
    return g_steal_pointer(&out);
}

bool copy_in_to_dir(const CopyIn *c, const char *dir, GError **err)
{
    for (guint i = 0; i < c->entries->len; i++) {
        const CopyEntry *e = c->entries->pdata[i];
        g_autofree char *dest = g_build_filename(dir, e->rel, NULL);
        int rc = 0;
        if (e->type == 'd') {
            rc = g_mkdir(dest, 0700);
        } else if (e->type == 'l') {
            rc = symlink(e->target, dest);
        } else {
            g_autofree char *data = NULL;
            gsize len;
            if (!g_file_get_contents(e->host, &data, &len, err) ||
                !g_file_set_contents_full(dest, data, (gssize)len,
                                          G_FILE_SET_CONTENTS_NONE, 0600,
                                          err)) {
                g_prefix_error(err, "copy_to_guest: ");
                return false;
            }
        }
        if (rc != 0) {
            g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                        "copy_to_guest: cannot make %s: %s", dest,
                        g_strerror(errno));
            return false;
        }
    }
    /* Modes last, so a read-only directory was still filled. */
    for (guint i = c->entries->len; i-- > 0;) {
        const CopyEntry *e = c->entries->pdata[i];
        g_autofree char *dest = g_build_filename(dir, e->rel, NULL);
        if (e->type != 'l' && chmod(dest, e->mode) != 0) {
            g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                        "copy_to_guest: cannot set the mode of %s: %s", dest,
                        g_strerror(errno));
            return false;
        }
    }
    return true;
}
