<%-- The tutorial's test page. The tutorial writes one per Tomcat with the name typed in
     ("TomcatB"); this one asks the Engine's jvmRoute (passed as -DjvmRoute=…, see server.xml),
     so both Tomcats can run the same file. --%>
<%@ page language="java" %>
<% String tomcat = System.getProperty("jvmRoute", "unnamed Tomcat");
   session.setAttribute("abc", "abc"); %>
<html>
 <head><title><%= tomcat %></title></head>
 <body>
  <h1><font color="blue"><%= tomcat %></font></h1>
  <table align="centre" border="1">
   <tr>
    <td>Session ID</td>
    <td><%= session.getId() %></td>
   </tr>
   <tr>
    <td>Created on</td>
    <td><%= session.getCreationTime() %></td>
   </tr>
  </table>
 </body>
</html>
