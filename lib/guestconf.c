/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest.conf reading and writing (see guestconf.h for the keys), and the
 * throw-away image copy a run works on.  QEMU's command line is built from
 * a GuestConf in qemu_argv.c.
 */
#include "guestconf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(memory-tracer-guest-conf-error-quark, guest_conf_error)

char *guest_embedded_file(const char *name, unsigned smp)
{
    if (smp <= 1) {
        return g_strdup(name);
    }
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    return g_strdup_printf("%.*s-%ucpu%s", (int)stem, name, smp,
                           dot ? dot : "");
}

GuestConf *guest_conf_new_default(void)
{
    GuestConf *c = g_new0(GuestConf, 1);
    c->image = g_strdup("guest.qcow2");
    c->snapshot = g_strdup(GUEST_DEFAULT_SNAPSHOT);
    c->kernel = g_strdup("vmlinuz");
    c->initrd = g_strdup("initrd.img");
    c->append = g_strdup(GUEST_DEFAULT_APPEND);
    c->machine = g_strdup(GUEST_DEFAULT_MACHINE);
    c->cpu = g_strdup(GUEST_DEFAULT_CPU);
    c->memory_mb = GUEST_DEFAULT_MEMORY_MB;
    c->smp = 1;
    c->drive_if = g_strdup("none");
    c->channel = g_strdup(GUEST_DEFAULT_CHANNEL);
    return c;
}

void guest_conf_free(GuestConf *c)
{
    if (!c) {
        return;
    }
    g_free(c->image);
    g_free(c->snapshot);
    g_free(c->kernel);
    g_free(c->initrd);
    g_free(c->append);
    g_free(c->machine);
    g_free(c->cpu);
    g_free(c->drive_if);
    g_free(c->channel);
    g_free(c->rootfs);
    g_free(c->nic);
    g_free(c);
}

static char *absolute(const char *dir, const char *value)
{
    return g_path_is_absolute(value) ? g_strdup(value)
                                     : g_build_filename(dir, value, NULL);
}

static gboolean parse_uint(const char *path, guint line, const char *key,
                           const char *value, guint min, guint max,
                           guint *out, GError **err)
{
    guint64 v;
    g_autoptr(GError) e = NULL;
    if (!g_ascii_string_to_unsigned(value, 10, min, max, &v, &e)) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                    "%s:%u: %s: %s", path, line, key, e->message);
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

GuestConf *guest_conf_load(const char *path, GError **err)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(path, &text, NULL, &e)) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_IO,
                    "cannot read guest configuration: %s", e->message);
        return NULL;
    }
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *dir = g_path_get_dirname(abs);
    g_autoptr(GuestConf) c = g_new0(GuestConf, 1);
    /* Absent keys: the defaults of the format (guestconf.h). */
    c->memory_mb = GUEST_DEFAULT_MEMORY_MB;
    c->smp = 1;
    c->drive_if = g_strdup("none");
    c->channel = g_strdup("ttyS0");
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        if (l[0] == '\0' || l[0] == '#') {
            continue;
        }
        char *eq = strchr(l, '=');
        if (!eq) {
            g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                        "%s:%u: expected key=value", path, i + 1);
            return NULL;
        }
        *eq = '\0';
        const char *key = g_strstrip(l);
        const char *value = g_strstrip(eq + 1);
        char **slot = NULL;
        gboolean is_path = FALSE;
        if (strcmp(key, "format") == 0) {
            if (strcmp(value, "1") != 0) {
                g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                            "%s:%u: unsupported format %s", path, i + 1,
                            value);
                return NULL;
            }
            continue;
        } else if (strcmp(key, "image") == 0) {
            slot = &c->image, is_path = TRUE;
        } else if (strcmp(key, "snapshot") == 0) {
            slot = &c->snapshot;
        } else if (strcmp(key, "kernel") == 0) {
            slot = &c->kernel, is_path = TRUE;
        } else if (strcmp(key, "initrd") == 0) {
            slot = &c->initrd, is_path = TRUE;
        } else if (strcmp(key, "append") == 0) {
            slot = &c->append;
        } else if (strcmp(key, "machine") == 0) {
            slot = &c->machine;
        } else if (strcmp(key, "cpu") == 0) {
            slot = &c->cpu;
        } else if (strcmp(key, "drive_if") == 0) {
            if (strcmp(value, "none") != 0 && strcmp(value, "ide") != 0 &&
                strcmp(value, "virtio") != 0) {
                g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                            "%s:%u: drive_if must be none, ide or virtio",
                            path, i + 1);
                return NULL;
            }
            slot = &c->drive_if;
        } else if (strcmp(key, "channel") == 0) {
            if (strcmp(value, "ttyS0") != 0 &&
                strcmp(value, "virtconsole") != 0) {
                g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                            "%s:%u: channel must be ttyS0 or virtconsole",
                            path, i + 1);
                return NULL;
            }
            slot = &c->channel;
        } else if (strcmp(key, "rootfs") == 0) {
            slot = &c->rootfs, is_path = TRUE;
        } else if (strcmp(key, "nic") == 0) {
            if (strcmp(value, "none") != 0 &&
                strcmp(value, "virtio-net-pci") != 0 &&
                strcmp(value, "e1000e") != 0 && strcmp(value, "e1000") != 0) {
                g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                            "%s:%u: nic must be none, virtio-net-pci, e1000e "
                            "or e1000", path, i + 1);
                return NULL;
            }
            slot = &c->nic;
        } else if (strcmp(key, "memory_mb") == 0) {
            if (!parse_uint(path, i + 1, key, value, 16, 1 << 20,
                            &c->memory_mb, err)) {
                return NULL;
            }
            continue;
        } else if (strcmp(key, "smp") == 0) {
            if (!parse_uint(path, i + 1, key, value, 1, GUEST_MAX_VCPUS,
                            &c->smp, err)) {
                return NULL;
            }
            continue;
        } else {
            g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                        "%s:%u: unknown key \"%s\"", path, i + 1, key);
            return NULL;
        }
        g_free(*slot);
        *slot = is_path && value[0] ? absolute(dir, value) : g_strdup(value);
    }
    if (!c->image || !c->snapshot || !c->machine || !c->cpu) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                    "%s: image, snapshot, machine and cpu are required",
                    path);
        return NULL;
    }
    if ((c->initrd || c->append) && !c->kernel) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_PARSE,
                    "%s: initrd or append given without kernel", path);
        return NULL;
    }
    return g_steal_pointer(&c);
}

static const char *relative_to(const char *dir, const char *value)
{
    gsize n = strlen(dir);
    if (g_str_has_prefix(value, dir) && value[n] == '/') {
        return value + n + 1;
    }
    return value;
}

gboolean guest_conf_save(const GuestConf *c, const char *path, GError **err)
{
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *dir = g_path_get_dirname(abs);
    g_autoptr(GString) s = g_string_new(
        "# memory_tracer guest configuration (see lib/guestconf.h).\n"
        "# Restoring the snapshot needs exactly these QEMU settings.\n"
        "format=1\n");
    g_string_append_printf(s, "image=%s\n", relative_to(dir, c->image));
    g_string_append_printf(s, "snapshot=%s\n", c->snapshot);
    if (c->kernel) {
        g_string_append_printf(s, "kernel=%s\n", relative_to(dir, c->kernel));
    }
    if (c->initrd) {
        g_string_append_printf(s, "initrd=%s\n", relative_to(dir, c->initrd));
    }
    if (c->append) {
        g_string_append_printf(s, "append=%s\n", c->append);
    }
    g_string_append_printf(s, "machine=%s\ncpu=%s\nmemory_mb=%u\nsmp=%u\n"
                           "drive_if=%s\nchannel=%s\n", c->machine, c->cpu,
                           c->memory_mb, c->smp,
                           c->drive_if ? c->drive_if : "none",
                           c->channel ? c->channel : "ttyS0");
    if (c->rootfs) {
        g_string_append_printf(s, "rootfs=%s\n", relative_to(dir, c->rootfs));
    }
    if (c->nic && strcmp(c->nic, "none") != 0) {
        g_string_append_printf(s, "nic=%s\n", c->nic);
    }
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(path, s->str, (gssize)s->len, &e)) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_IO,
                    "cannot write guest configuration: %s", e->message);
        return FALSE;
    }
    return TRUE;
}

gboolean guest_image_copy(const char *src, const char *dest, GError **err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_IO,
                    "cannot open guest image %s: %s", src, g_strerror(errno));
        return FALSE;
    }
    int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_IO,
                    "cannot create %s: %s", dest, g_strerror(errno));
        close(in);
        return FALSE;
    }
    gboolean ok = TRUE;
    if (ioctl(out, FICLONE, in) != 0) {
        struct stat st;
        if (fstat(in, &st) < 0) {
            ok = FALSE;
        }
        off_t left = ok ? st.st_size : 0;
        while (ok && left > 0) {
            ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS ||
                          errno == EINVAL || errno == EOPNOTSUPP)) {
                /* Plain read/write fallback. */
                char buf[1 << 16];
                ssize_t r = read(in, buf, sizeof(buf));
                if (r <= 0) {
                    ok = r == 0 && left == 0;
                    break;
                }
                n = write(out, buf, (size_t)r) == r ? r : -1;
            }
            if (n <= 0) {
                ok = FALSE;
                break;
            }
            left -= n;
        }
    }
    int e = errno;
    if (close(out) < 0) {
        ok = FALSE;
        e = errno;
    }
    close(in);
    if (!ok) {
        unlink(dest);
        g_set_error(err, GUEST_CONF_ERROR, GUEST_CONF_ERROR_IO,
                    "cannot copy guest image %s to %s: %s", src, dest,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}
