"""Line mode on the operator's screen: the PLC's connection, the line's state, the last cans'
verdicts in a strip (``panel.LinePanel``). The line itself is Qt-free (``line``)."""
