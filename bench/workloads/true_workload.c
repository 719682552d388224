/* SPDX-License-Identifier: GPL-2.0-or-later */
/* true_workload: does nothing; the baseline for the upload-rate figure. */
int main(void)
{
    return 0;
}
